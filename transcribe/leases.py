"""What a person does with a clip they hold: renew the lease, submit the transcript, skip it,
and stream its audio.

A slot stays with its holder until somebody else claims it: text typed past the lease still
counts if the slot was not taken meanwhile; otherwise it is kept as ``late`` (not counted, not
paid). Each write runs in the caller's session and commits it before returning: the answer
must never promise a transcript that is not stored, and on SQLite the write lock must not stay
held while a web worker waits for a thread to run the session's teardown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Connection,
    bindparam,
    case,
    cast,
    exists,
    insert,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.orm import Session

from crowdscribe.errors import Conflict, Forbidden, InvalidInput, LeaseExpired, NotFound
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Assignment, Clip, ExamAttempt, Submission, WorkItem
from transcribe.conventions import check_transcript
from transcribe.ledger import accruals_from, accrue, check_amount
from transcribe.stuck import STUCK_REASONS, withdraw_if_stuck
from transcribe.transactions import begin_session_write, utc_now

SKIP_REASONS = ("bad_audio", "wrong_language", "empty", "other")
_W = WorkItem.__table__
_A = Assignment.__table__
_S = Submission.__table__
_C = Clip.__table__


@dataclass(frozen=True)
class Receipt:
    """Proof a transcript was stored: ``counted`` fills a slot (and is paid), ``late`` does not."""

    submission_id: int
    status: str
    duplicate: bool
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


# Built once: these run for every transcript anyone submits.
HELD = (
    select(
        _A.c.user_id,
        _A.c.state,
        _A.c.work_item_id,
        _A.c.is_gold,
        _A.c.clip_id,
        _C.c.language,
        _C.c.price,
        _C.c.currency,
        _S.c.id.label("submission_id"),
        _S.c.request_id,
        _S.c.status.label("submission_status"),
        select(_S.c.assignment_id)
        .where(_S.c.request_id == bindparam("p_request"))
        .scalar_subquery()
        .label("request_used_for"),
    )
    .join(_C, _C.c.id == _A.c.clip_id)
    .outerjoin(_S, _S.c.assignment_id == _A.c.id)
    .where(_A.c.id == bindparam("p_assignment"))
)
# Constants inlined: a literal IN list would be re-expanded on every execution.
_SUBMITTABLE = text("assignments.state IN ('leased', 'expired')")
# The slot is still ours (even past the lease) as long as nobody else claimed it: closing it
# makes the text count; a gold clip has no slot and always counts.
_CLOSE_SLOT = (
    update(_W)
    .where(
        _W.c.id == bindparam("p_item"),
        _W.c.assignment_id == bindparam("p_assignment"),
        _W.c.state == "leased",
    )
    .values(state="done", lease_expires_at=None)
)
_MARK_SUBMITTED = (
    update(_A)
    .where(_A.c.id == bindparam("p_assignment"), _SUBMITTABLE)
    .values(state="submitted", finished_at=bindparam("p_now"))
)
_NEW_SUBMISSION = insert(_S).returning(_S.c.id)


def _store_in_one_statement():
    # PostgreSQL: close the slot, mark the assignment, store the text and accrue its price in
    # one statement, so in one round trip, atomic and committed on its own. No row back: the
    # assignment was no longer ours to submit (a retry or a skip won the race).
    closed = _CLOSE_SLOT.returning(_W.c.id).cte("closed")
    verdict = select(
        case(
            (or_(bindparam("p_gold", type_=Boolean), exists(closed.select())), "counted"),
            else_="late",
        ).label("status")
    ).cte("verdict")
    # Lock order: a claim locks the work item, then the old holder's assignment; submit must
    # too, or the two deadlock (they did when both updates sat side by side in one WITH, which
    # runs them in no fixed order). So marking the assignment waits on the verdict, and with it
    # on closing the slot: an uncorrelated scalar subquery in its WHERE is an InitPlan, which
    # PostgreSQL evaluates once, in a gate before the UPDATE reads, let alone locks, the row.
    mine = (
        _MARK_SUBMITTED.where(select(verdict.c.status).scalar_subquery().is_not(None))
        .returning(_A.c.id)
        .cte("mine")
    )
    stored = (
        insert(_S)
        .from_select(
            ["assignment_id", "clip_id", "user_id", "text", "request_id", "status", "is_gold"]
            + ["created_at"],
            select(
                mine.c.id,
                bindparam("p_clip", type_=_S.c.clip_id.type),
                bindparam("p_user", type_=_S.c.user_id.type),
                bindparam("p_text", type_=_S.c.text.type),
                bindparam("p_request", type_=_S.c.request_id.type),
                verdict.c.status,
                bindparam("p_gold", type_=Boolean),
                bindparam("p_now", type_=_S.c.created_at.type),
            ).select_from(mine.join(verdict, true())),
        )
        .returning(_S.c.id, _S.c.status)
        .cte("stored")
    )
    # Cast: a NULL price would otherwise reach the server without a type.
    price = cast(bindparam("p_price"), _C.c.price.type)
    paid = accruals_from(
        select(
            stored.c.id,
            bindparam("p_user", type_=_S.c.user_id.type),
            bindparam("p_clip", type_=_S.c.clip_id.type),
            price,
            bindparam("p_currency", type_=_C.c.currency.type),
            bindparam("p_now", type_=_S.c.created_at.type),
        ).where(stored.c.status == "counted", price.is_not(None))
    )
    return select(stored.c.id, stored.c.status).add_cte(paid.cte("paid"))


STORE_IN_ONE = _store_in_one_statement()


def _held_assignment(
    connection: Connection, assignment_id: str, user_id: int, request_id: str = ""
):
    row = connection.execute(HELD, {"p_assignment": assignment_id, "p_request": request_id}).first()
    return held_by(row, assignment_id, user_id)


def held_by(row, assignment_id: str, user_id: int):
    """The row of ``HELD`` for an assignment if it is this person's; NotFound otherwise, with
    the same words whether it is somebody else's or does not exist."""
    if row is None or row.user_id != user_id:
        raise NotFound(f"You hold no assignment {assignment_id}; claim a clip first.")
    return row


def _receipt(submission_id: int, status: str, clip_id: str, duplicate: bool) -> Receipt:
    again = " (this request was already received)" if duplicate else ""
    if status == "counted":
        message = (
            f"Saved{again}: your transcript of clip {clip_id} counts (receipt {submission_id})."
        )
    else:
        message = (
            f"Saved but NOT counted{again}: your lease on clip {clip_id} ran out and someone "
            f"else took the slot, so this transcript is kept (receipt {submission_id}) but "
            "will not be paid."
        )
    return Receipt(submission_id, status, duplicate, message)


def stored_receipt(stored, clip_id: str) -> Receipt:
    """The receipt for a transcript just stored: ``stored`` is the (id, status) row."""
    submission_id, status = stored
    return _receipt(submission_id, status, clip_id, duplicate=False)


def _earlier_submission(row, request_id: str, clip_id: str) -> Receipt:
    if row.request_id != request_id:
        raise Conflict(
            f"You already submitted clip {clip_id} (receipt {row.submission_id}); "
            "the first transcript stands."
        )
    return _receipt(row.submission_id, row.submission_status, clip_id, duplicate=True)


def check_request_id(request_id: str) -> None:
    """Refuse a ``request_id`` that cannot identify one submission across retries."""
    if not request_id or len(request_id) > 64:
        raise InvalidInput("request_id must be 1 to 64 characters, the same on every retry")


def answer_before_storing(row, request_id: str) -> Receipt | None:
    """What to answer without storing anything, from the ``HELD`` row: the first receipt again
    for a retried request, a refusal (raised) for a clip already submitted or skipped or a
    request_id spent on another clip; None when the transcript is to be stored."""
    if row.submission_id is not None:
        return _earlier_submission(row, request_id, row.clip_id)
    if row.request_used_for is not None:
        raise Conflict(f"request_id {request_id!r} was already used for another clip")
    if row.state == "skipped":
        raise Conflict(f"You skipped clip {row.clip_id}; it cannot be submitted any more.")
    return None


def store_values(
    row, assignment_id: str, user_id: int, text: str, request_id: str, now: datetime
) -> dict:
    """The parameters that store a transcript for the held ``row``, once its text passes the
    conventions (ConventionError otherwise)."""
    clean = check_transcript(text, row.language)
    price = None if row.price is None else check_amount(Decimal(row.price))
    return {
        "p_assignment": assignment_id,
        "p_item": row.work_item_id,
        "p_clip": row.clip_id,
        "p_user": user_id,
        "p_text": clean,
        "p_request": request_id,
        "p_gold": bool(row.is_gold),
        "p_price": price,
        "p_currency": row.currency,
        "p_now": now,
    }


def submit_transcript(
    session: Session,
    assignment_id: str,
    user_id: int,
    text: str,
    request_id: str,
    now: datetime,
) -> Receipt:
    """Store and commit a person's transcript once per ``request_id`` (a retry returns the same
    receipt); a counted one accrues the clip's price in the ledger."""
    check_request_id(request_id)
    now = utc_now(now)
    connection = _submit_connection(session)
    row = _held_assignment(connection, assignment_id, user_id, request_id)
    answered = answer_before_storing(row, request_id)
    if answered is not None:
        return answered
    values = store_values(row, assignment_id, user_id, text, request_id, now)
    if connection.dialect.name == "postgresql":
        stored = connection.execute(STORE_IN_ONE, values).first()
    else:
        begin_session_write(session)
        stored = _store_in_steps(session, connection, values)
    if stored is None:
        # Lost a race with our own retry (or a skip): answer as the winner did.
        again = _held_assignment(connection, assignment_id, user_id, request_id)
        session.rollback()
        if again.submission_id is not None:
            return _earlier_submission(again, request_id, row.clip_id)
        raise Conflict(f"You skipped clip {row.clip_id}; it cannot be submitted any more.")
    session.commit()
    return stored_receipt(stored, row.clip_id)


def submit_in_own_session(
    database: Database, assignment_id: str, user_id: int, text: str, request_id: str, now: datetime
) -> Receipt:
    """``submit_transcript`` in a session of its own, closed before returning: the transcript (a
    late one too) is committed before the answer goes back."""
    with database.session() as session:
        return submit_transcript(session, assignment_id, user_id, text, request_id, now)


def _submit_connection(session: Session) -> Connection:
    # PostgreSQL stores a submission in one statement, so a session with nothing begun reads
    # and writes in autocommit: no BEGIN and COMMIT round trips. Work the caller has begun in
    # the session (or left to flush) commits together with the submission, as before.
    session.flush()
    if session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return session.connection()
    return session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _store_in_steps(
    session: Session, connection: Connection, values: dict
) -> tuple[int, str] | None:
    # SQLite, under its write lock: the statements of ``STORE_IN_ONE``, one by one.
    counted = values["p_gold"] or connection.execute(_CLOSE_SLOT, values).rowcount == 1
    status = "counted" if counted else "late"
    if connection.execute(_MARK_SUBMITTED, values).rowcount != 1:
        return None
    submission_id = connection.execute(
        _NEW_SUBMISSION,
        {
            "assignment_id": values["p_assignment"],
            "clip_id": values["p_clip"],
            "user_id": values["p_user"],
            "text": values["p_text"],
            "request_id": values["p_request"],
            "status": status,
            "is_gold": values["p_gold"],
            "error_vs_final": None,
            "created_at": values["p_now"],
        },
    ).scalar_one()
    if counted and values["p_price"] is not None:
        accrue(
            session,
            submission_id,
            values["p_user"],
            values["p_clip"],
            values["p_price"],
            values["p_currency"],
            values["p_now"],
        )
    return submission_id, status


def renew_lease(
    session: Session, assignment_id: str, user_id: int, now: datetime, lease_s: float
) -> datetime:
    """Extend (and commit) a lease the person still holds to ``now + lease_s``; LeaseExpired if
    the slot went to someone else meanwhile."""
    now = utc_now(now)
    row = _held_assignment(session.connection(), assignment_id, user_id)
    if row.submission_id is not None or row.state == "submitted":
        raise Conflict(f"You already submitted clip {row.clip_id}; there is nothing to renew.")
    if row.state == "skipped":
        raise Conflict(f"You skipped clip {row.clip_id}; there is nothing to renew.")
    expires = now + timedelta(seconds=lease_s)
    begin_session_write(session)
    if not row.is_gold:
        slot = session.execute(
            update(_W)
            .where(
                _W.c.id == row.work_item_id,
                _W.c.assignment_id == assignment_id,
                _W.c.state == "leased",
            )
            .values(lease_expires_at=expires)
        )
        if slot.rowcount != 1:
            session.rollback()
            raise LeaseExpired(
                f"Your lease on clip {row.clip_id} ran out and someone else took the slot; "
                "you can still submit, but the text will not count."
            )
    session.execute(
        update(_A)
        .where(_A.c.id == assignment_id, _A.c.state == "leased")
        .values(lease_expires_at=expires)
    )
    session.commit()
    return expires


def skip_assignment(
    session: Session, assignment_id: str, user_id: int, reason: str, now: datetime
) -> None:
    """Give a clip back (bad audio, wrong language, empty, other) and commit: the slot reopens
    for someone else and this person never gets that clip again."""
    if reason not in SKIP_REASONS:
        raise InvalidInput(f"skip reason must be one of {', '.join(SKIP_REASONS)}, not {reason!r}")
    now = utc_now(now)
    row = _held_assignment(session.connection(), assignment_id, user_id)
    if row.state == "skipped":
        return
    if row.state == "submitted":
        raise Conflict(f"You already submitted clip {row.clip_id}; it cannot be skipped now.")
    begin_session_write(session)
    if not row.is_gold:
        session.execute(
            update(_W)
            .where(
                _W.c.id == row.work_item_id,
                _W.c.assignment_id == assignment_id,
                _W.c.state == "leased",
            )
            .values(state="open", assignment_id=None, lease_expires_at=None)
        )
    session.execute(
        update(_A)
        .where(_A.c.id == assignment_id, _A.c.state.in_(("leased", "expired")))
        .values(state="skipped", skip_reason=reason, finished_at=now)
    )
    session.commit()
    if reason in STUCK_REASONS:
        withdraw_if_stuck(session, row.clip_id, now)


def held_clip_path(session: Session, user_id: int, clip_id: str) -> str:
    """The clip's stored audio path (relative to the data home), only for a person holding it:
    a lease nobody else has taken over, or a clip in their unfinished exam."""
    audio_path = session.scalar(select(_C.c.audio_path).where(_C.c.id == clip_id))
    if audio_path is None:
        raise NotFound(f"there is no clip {clip_id}")
    holds = session.scalar(
        select(_A.c.id).where(
            _A.c.clip_id == clip_id, _A.c.user_id == user_id, _A.c.state == "leased"
        )
    )
    if holds is not None:
        return audio_path
    open_exams = session.scalars(
        select(ExamAttempt.clip_ids).where(
            ExamAttempt.user_id == user_id, ExamAttempt.finished_at.is_(None)
        )
    )
    if any(clip_id in (clip_ids or ()) for clip_ids in open_exams):
        return audio_path
    raise Forbidden(f"You do not hold clip {clip_id}; claim it before listening to it.")
