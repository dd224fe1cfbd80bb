"""Every statement of the dispatch queue, for SQLite and PostgreSQL, built once from ``rules``.

Built at import: these run for every claim and submit anyone makes. Each takes its values as
named parameters (``p_...``), so the sync runner and the async runner bind them the same way.
Why the claims are shaped as they are: ``docs/dispatch.md``.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    bindparam,
    case,
    cast,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import sqlite

from crowdscribe.storage.models import ExamAttempt, GoldClip, Submission
from crowdscribe.storage.states import AssignmentState, SlotState, SubmissionStatus
from transcribe.dispatch.rules import (
    ASKED,
    NOW,
    ONE,
    OPEN,
    SUBMITTABLE,
    USER,
    A,
    C,
    W,
    coming_back,
    lease_run_out,
    not_had,
    open_to,
    qualified_languages,
    slot_held_by,
)
from transcribe.ledger import ACCRUE, accruals_from
from transcribe.users import BY_TOKEN, holds_role

S = Submission.__table__
ASSIGNMENT = bindparam("p_assignment", type_=A.c.id.type)
EXPIRES = bindparam("p_expires", type_=A.c.lease_expires_at.type)

QUALIFIED = qualified_languages()
# The holder of a token (``users.BY_TOKEN``), read inside the statement that acts for them.
PERSON = BY_TOKEN.cte("person")
# Who a token's claim is made for: its holder, if they hold the role asked for.
ROLE = bindparam("p_role", type_=PERSON.c.roles.type)
CLAIMANT = (
    select(PERSON.c.id)
    .where(or_(ROLE.is_(None), holds_role(PERSON.c.roles, ROLE)))
    .scalar_subquery()
)

# --- claim ---------------------------------------------------------------------------------

_SLOT = (W.c.id, W.c.clip_id, W.c.assignment_id, W.c.claim_rank)
# The slot and the clip's terms, as SQLite's pick returns them.
_PICKED = (*_SLOT, C.c.language, C.c.duration_s, C.c.price, C.c.currency)
_IN_CLAIM_ORDER = (W.c.claim_rank, W.c.id)


def _claim_in_one_statement(user=USER, *, for_token: bool = False):
    # PostgreSQL: pick, lock, lease and record the slot in one statement (docs/dispatch.md#claim);
    # ``for_token``: the token's holder too, with the clip leased to them if any.
    languages = qualified_languages(user).subquery("languages")

    def first_slot(state, name: str):
        pick = (
            select(*_SLOT)
            .where(W.c.language == languages.c.language, state, open_to(user))
            .order_by(*_IN_CLAIM_ORDER)
            .limit(ONE)
            .with_for_update(of=W, skip_locked=True)
            .lateral(name)
        )
        return select(pick).select_from(languages.join(pick, true()))

    picks = union_all(first_slot(OPEN, "open_pick"), first_slot(lease_run_out(), "run_out"))
    picks = picks.subquery("picks")
    slot = (
        select(picks.c.id, picks.c.clip_id, picks.c.assignment_id)
        .order_by(picks.c.claim_rank, picks.c.id)
        .limit(ONE)
        .cte("slot")
    )
    # Through a scalar subquery on the one-row pick, not a join (docs/dispatch.md#claim).
    expire_holder = (
        update(A)
        .where(
            A.c.id == select(slot.c.assignment_id).scalar_subquery(),
            A.c.state == AssignmentState.LEASED,
        )
        .values(state=AssignmentState.EXPIRED, finished_at=NOW)
        .cte("expire_holder")
    )
    new_assignment = insert(A).from_select(
        ["id", "work_item_id", "clip_id", "user_id", "state", "is_gold", "leased_at"]
        + ["lease_expires_at"],
        select(
            ASSIGNMENT,
            slot.c.id,
            slot.c.clip_id,
            user,
            literal(AssignmentState.LEASED, A.c.state.type),
            false(),
            NOW,
        ).add_columns(EXPIRES),
    )
    leased = (
        update(W)
        .where(W.c.id == select(slot.c.id).scalar_subquery())
        .values(state=SlotState.LEASED, assignment_id=ASSIGNMENT, lease_expires_at=EXPIRES)
        .returning(W.c.clip_id)
        .cte("leased")
    )
    claimed = select(
        leased.c.clip_id, C.c.language, C.c.duration_s, C.c.price, C.c.currency
    ).join_from(leased, C, C.c.id == leased.c.clip_id)
    if for_token:
        # Data-modifying CTEs must stay at the top: the claim joins the person's row.
        claimed = claimed.subquery("claimed")
        claimed = select(PERSON, claimed).select_from(PERSON.outerjoin(claimed, true()))
    return claimed.add_cte(expire_holder, new_assignment.cte("new_assignment"))


CLAIM_IN_ONE = _claim_in_one_statement()
CLAIM_FOR_TOKEN = _claim_in_one_statement(CLAIMANT, for_token=True)

_SQLITE_NAMED = sqlite.dialect(paramstyle="named")


def _sqlite_pick(index: str, state) -> str:
    # SQLite renders no index hints from SQLAlchemy: the index is named in the compiled text
    # (docs/dispatch.md#sqlite-pick). OFFSET written out, or SQLite's compiler binds one.
    pick = (
        select(*_PICKED)
        .join_from(W, C, C.c.id == W.c.clip_id)
        .where(W.c.language == ASKED, state, open_to())
        .order_by(*_IN_CLAIM_ORDER)
        .limit(ONE)
        .offset(literal_column("0"))
    )
    sql = str(pick.compile(dialect=_SQLITE_NAMED))
    indexed = sql.replace("FROM work_items", f"FROM work_items INDEXED BY {index}", 1)
    return f"SELECT * FROM ({indexed})"


# SQLite: the first open slot and the first run-out lease in one language.
SQLITE_PICKS = (
    text(
        _sqlite_pick("ix_work_items_open", OPEN)
        + " UNION ALL "
        + _sqlite_pick("ix_work_items_leased", lease_run_out())
    )
    .bindparams(NOW)
    .columns(*_PICKED)
)
EXPIRE_HOLDER = (
    update(A)
    .where(A.c.id == bindparam("p_holder"), A.c.state == AssignmentState.LEASED)
    .values(state=AssignmentState.EXPIRED, finished_at=NOW)
)
NEW_ASSIGNMENT = insert(A).values(
    id=ASSIGNMENT,
    work_item_id=bindparam("p_item", type_=A.c.work_item_id.type),
    clip_id=bindparam("p_clip", type_=A.c.clip_id.type),
    user_id=USER,
    state=AssignmentState.LEASED,
    is_gold=bindparam("p_gold", type_=Boolean),
    leased_at=NOW,
    lease_expires_at=EXPIRES,
)
LEASE_SLOT = (
    update(W)
    .where(W.c.id == bindparam("p_item"))
    .values(state=SlotState.LEASED, assignment_id=ASSIGNMENT, lease_expires_at=EXPIRES)
)
EXAM_CLIPS = select(ExamAttempt.clip_ids).where(ExamAttempt.user_id == USER)
# Gold clips the person may get, in random order; enough to find one not seen in an exam.
GOLD_CANDIDATES = (
    select(C.c.id.label("clip_id"), C.c.language, C.c.duration_s, C.c.price, C.c.currency)
    .join(GoldClip, GoldClip.clip_id == C.c.id)
    .where(C.c.language.in_(QUALIFIED), C.c.price.is_not(None), not_had(USER, C.c.id))
    .order_by(func.random())
    .limit(bindparam("p_limit"))
)
# Slots that will come back to the person when their leases run out, and the first to.
COMING_BACK = select(func.count(), func.min(W.c.lease_expires_at)).where(
    W.c.language.in_(QUALIFIED), coming_back()
)
# --- submit --------------------------------------------------------------------------------

# The person's own earlier submission under the same request id, if any.
_USED = S.alias("used")
HELD = (
    select(
        A.c.user_id,
        A.c.state,
        A.c.work_item_id,
        A.c.is_gold,
        A.c.clip_id,
        C.c.language,
        C.c.price,
        C.c.currency,
        S.c.id.label("submission_id"),
        S.c.request_id,
        S.c.text.label("submitted_text"),
        S.c.status.label("submission_status"),
        C.c.duration_s,
        select(_USED.c.assignment_id)
        .where(_USED.c.request_id == bindparam("p_request"), _USED.c.user_id == A.c.user_id)
        .scalar_subquery()
        .label("request_used_for"),
    )
    .join(C, C.c.id == A.c.clip_id)
    .outerjoin(S, S.c.assignment_id == A.c.id)
    .where(A.c.id == ASSIGNMENT)
)
# The token's holder with ``HELD`` (NULLs when there is no such assignment); no row: no holder.
_HELD_ROW = HELD.subquery("held")
HELD_FOR_TOKEN = select(PERSON, _HELD_ROW).select_from(PERSON.outerjoin(_HELD_ROW, true()))
# Closing the slot makes the text count; a gold clip has no slot and always counts.
CLOSE_SLOT = (
    update(W)
    .where(slot_held_by(bindparam("p_item"), ASSIGNMENT))
    .values(state=SlotState.DONE, lease_expires_at=None)
)
MARK_SUBMITTED = (
    update(A)
    .where(A.c.id == ASSIGNMENT, SUBMITTABLE)
    .values(state=AssignmentState.SUBMITTED, finished_at=NOW)
)
_SUBMISSION = {
    "clip_id": bindparam("p_clip", type_=S.c.clip_id.type),
    "user_id": bindparam("p_user", type_=S.c.user_id.type),
    "text": bindparam("p_text", type_=S.c.text.type),
    "request_id": bindparam("p_request", type_=S.c.request_id.type),
    "is_gold": bindparam("p_gold", type_=Boolean),
    "created_at": bindparam("p_now", type_=S.c.created_at.type),
}
NEW_SUBMISSION = (
    insert(S)
    .values(assignment_id=ASSIGNMENT, status=bindparam("p_status"), **_SUBMISSION)
    .returning(S.c.id)
)
ACCRUE_SQLITE = ACCRUE["sqlite"]


def _status(status: SubmissionStatus):
    # Typed: an enum member would reach PostgreSQL as a parameter of unknown type.
    return literal(status, S.c.status.type)


def _store_in_one_statement():
    # PostgreSQL: close the slot, mark the assignment, store the text and accrue its price in
    # one statement; no row back: the assignment was no longer ours to submit.
    closed = CLOSE_SLOT.returning(W.c.id).cte("closed")
    verdict = select(
        case(
            (
                or_(_SUBMISSION["is_gold"], exists(closed.select())),
                _status(SubmissionStatus.COUNTED),
            ),
            else_=_status(SubmissionStatus.LATE),
        ).label("status")
    ).cte("verdict")
    # Marked only once the slot is closed, in a claim's lock order (docs/dispatch.md#lock-order).
    mine = (
        MARK_SUBMITTED.where(select(verdict.c.status).scalar_subquery().is_not(None))
        .returning(A.c.id)
        .cte("mine")
    )
    stored = (
        insert(S)
        .from_select(
            ["assignment_id", "status", *_SUBMISSION],
            select(mine.c.id, verdict.c.status, *_SUBMISSION.values()).select_from(
                mine.join(verdict, true())
            ),
        )
        .returning(S.c.id, S.c.status)
        .cte("stored")
    )
    # Cast: a NULL price would otherwise reach the server without a type.
    price = cast(bindparam("p_price"), C.c.price.type)
    paid = accruals_from(
        select(
            stored.c.id,
            _SUBMISSION["user_id"],
            _SUBMISSION["clip_id"],
            price,
            bindparam("p_currency", type_=C.c.currency.type),
            _SUBMISSION["created_at"],
        ).where(stored.c.status == SubmissionStatus.COUNTED, price.is_not(None))
    )
    return select(stored.c.id, stored.c.status).add_cte(paid.cte("paid"))


STORE_IN_ONE = _store_in_one_statement()
# What renewing and skipping change: the slot the assignment still holds, and the assignment.
RENEW_SLOT = (
    update(W).where(slot_held_by(bindparam("p_item"), ASSIGNMENT)).values(lease_expires_at=EXPIRES)
)
RENEW_ASSIGNMENT = (
    update(A)
    .where(A.c.id == ASSIGNMENT, A.c.state == AssignmentState.LEASED)
    .values(lease_expires_at=EXPIRES)
)
REOPEN_SLOT = (
    update(W)
    .where(slot_held_by(bindparam("p_item"), ASSIGNMENT))
    .values(state=SlotState.OPEN, assignment_id=None, lease_expires_at=None)
)
MARK_SKIPPED = (
    update(A)
    .where(A.c.id == ASSIGNMENT, SUBMITTABLE)
    .values(state=AssignmentState.SKIPPED, skip_reason=bindparam("p_reason"), finished_at=NOW)
)
