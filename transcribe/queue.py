"""The dispatch queue: handing out transcription slots fairly, under leases.

A published clip with overlap N has N ``work_items`` (slots). ``claim_next_clip`` gives a
qualified person the oldest open slot of the highest priority in their languages, under a lease;
a slot whose lease ran out is claimable again in the same query. Nobody gets the same clip twice.
Publishing lives in ``transcribe.publishing``; submitting, renewing and skipping in
``transcribe.leases``; both are re-exported here.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
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
from sqlalchemy.orm import Session

from crowdscribe.errors import NotQualified
from crowdscribe.languages import check_language
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import (
    Assignment,
    Clip,
    ExamAttempt,
    GoldClip,
    Qualification,
    WorkItem,
)
from transcribe.leases import (
    SKIP_REASONS,
    Receipt,
    held_clip_path,
    renew_lease,
    skip_assignment,
    submit_in_own_session,
    submit_transcript,
)
from transcribe.publishing import PublishSummary, add_slot, publish_clips
from transcribe.transactions import as_utc, run_write, utc_now
from transcribe.users import QUALIFIED

__all__ = [
    "SKIP_REASONS",
    "Claim",
    "NoWork",
    "PublishSummary",
    "Receipt",
    "WorkOffer",
    "add_slot",
    "claim_next_clip",
    "held_clip_path",
    "publish_clips",
    "renew_lease",
    "skip_assignment",
    "submit_in_own_session",
    "submit_transcript",
    "work_overview",
]

# Constants are inlined (not bound) so the planner can match the partial indexes: open slots
# in claim order, and leased ones by expiry. A claim walks the first to the next open slot and
# asks the second only for leases already run out, so it costs the same however many slots
# people hold at the moment (one index over both made each claim step past every one held).
_OPEN = text("work_items.state = 'open'")
_LEASED = text("work_items.state = 'leased'")
# LIMIT 1 written out, not bound: PostgreSQL then finds a cached generic plan of the claim as
# good as a fresh one and stops planning it on every execution (planning cost more than running
# it); with a bound LIMIT that plan guesses at many rows and hash-joins whole tables.
_ONE = literal_column("1")
_W = WorkItem.__table__
_A = Assignment.__table__
_C = Clip.__table__
_Q = Qualification.__table__


@dataclass(frozen=True)
class Claim:
    """A slot (or a gold clip) now held by one person until ``lease_expires_at``."""

    assignment_id: str
    clip_id: str
    language: str
    duration_s: float
    price: Decimal
    currency: str
    lease_expires_at: datetime
    is_gold: bool


@dataclass(frozen=True)
class NoWork:
    """Nothing to claim now; the message says why and when more is expected, if known."""

    message: str
    next_expected_at: datetime | None


@dataclass(frozen=True)
class WorkOffer:
    """Work waiting in one language for one person: how much, and what it pays."""

    language: str
    open_clips: int
    price_per_clip: Decimal | None
    rate_per_minute: Decimal | None
    currency: str | None

    def to_dict(self) -> dict:
        return {
            "language": self.language,
            "open_clips": self.open_clips,
            "price_per_clip": None if self.price_per_clip is None else str(self.price_per_clip),
            "rate_per_minute": None if self.rate_per_minute is None else str(self.rate_per_minute),
            "currency": self.currency,
        }


def claim_next_clip(
    db: Database,
    user_id: int,
    *,
    language: str | None = None,
    now: datetime | None = None,
    lease_s: float = 600,
    gold_rate: float = 0.0,
) -> Claim | NoWork:
    """Atomically lease the next slot for a person: highest priority, then oldest, in a language
    they are qualified in, never a clip they have had before; sometimes a gold clip instead."""
    now = utc_now(now)
    expires = now + timedelta(seconds=lease_s)
    language = wanted_language(language)
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Each statement its own transaction: the claim below is one atomic statement, so
            # no BEGIN/COMMIT round trips.
            connection.execution_options(isolation_level="AUTOCOMMIT")
            claim = None
            if gold_rate > 0 and random.random() < gold_rate:
                languages = _claimable_languages(connection, user_id, language)
                claim = run_write(
                    connection, lambda c: _claim_gold(c, user_id, languages, now, expires)
                )
            claim = claim or run_write(
                connection, lambda c: _claim_slot_in_one(c, user_id, language, now, expires)
            )
            if claim is not None:
                return claim
            # The claim reads the qualifications itself; only an empty hand says why.
            languages = _claimable_languages(connection, user_id, language)
            return _no_work(connection, user_id, languages, now)
        languages = _claimable_languages(connection, user_id, language)
        if gold_rate > 0 and random.random() < gold_rate:
            claim = run_write(
                connection, lambda c: _claim_gold(c, user_id, languages, now, expires)
            )
            if claim is not None:
                return claim
        claim = run_write(connection, lambda c: _claim_slot(c, user_id, languages, now, expires))
        if claim is not None:
            return claim
        return _no_work(connection, user_id, languages, now)


def wanted_language(language: str | None) -> str | None:
    """A language code as a client may send it (" YUE"), as the queue stores it ("yue");
    a code not in the registry is refused with a hint rather than finding no work."""
    return None if language is None else check_language(language)


_QUALIFIED = select(Qualification.language).where(
    Qualification.user_id == bindparam("p_user_id"), Qualification.status == QUALIFIED
)


def _claimable_languages(connection: Connection, user_id: int, language: str | None) -> list[str]:
    qualified = sorted(connection.scalars(_QUALIFIED, {"p_user_id": user_id}))
    if language is not None:
        if language not in qualified:
            raise NotQualified(
                f"You are not qualified to transcribe {language} yet (or you were paused); "
                f"pass the {language} exam first."
            )
        return [language]
    if not qualified:
        raise NotQualified(
            "You are not qualified in any language yet; pass an exam before taking paid work."
        )
    return qualified


def _not_had_by(user_id):
    return ~exists().where(_A.c.clip_id == _W.c.clip_id, _A.c.user_id == user_id)


def _run_out(now):
    # An expired lease is as good as an open slot: whoever claims it next takes it over.
    return and_(_LEASED, _W.c.lease_expires_at < now)


def _claimable(in_language, now):
    return and_(in_language, or_(_OPEN, _run_out(now)))


# What SQLite's pick of the next slot returns, in order: the slot, and the clip's terms.
_PICKED = (
    _W.c.id,
    _W.c.clip_id,
    _W.c.assignment_id,
    _W.c.claim_rank,
    _C.c.language,
    _C.c.duration_s,
    _C.c.price,
    _C.c.currency,
)


def _next_slot(in_language, state):
    """PostgreSQL: the first slot in claim order in ``state`` (open, or run out) that the person
    never had, of a clip still published, locked."""
    had = (
        select(literal(1))
        .where(_A.c.clip_id == _W.c.clip_id, _A.c.user_id == bindparam("p_user_id"))
        .limit(_ONE)
        .scalar_subquery()
    )
    clip_status = select(_C.c.status).where(_C.c.id == _W.c.clip_id).scalar_subquery()
    return (
        select(_W.c.id, _W.c.clip_id, _W.c.assignment_id, _W.c.claim_rank)
        .where(
            in_language,
            state,
            # Scalar subqueries, not joins: each runs as an index probe for the few slots a pick
            # looks at. Joined, the cached generic plan of the claim (which cannot know how many
            # leases have run out) hashed every clip, or the person's whole history, each time.
            had.is_(None),
            # A slot still leased when its clip went to review (two people called the audio
            # bad) must not be handed to anyone else once that lease runs out.
            clip_status == "published",
        )
        .order_by(_W.c.claim_rank, _W.c.id)
        .limit(_ONE)
        .with_for_update(of=_W, skip_locked=True)
    )


# SQLite: the same two picks for one language, written out to name their indexes. Once ANALYZE
# has run on a few thousand clips SQLite prefers to scan every clip and sort (5 ms a claim,
# growing with the queue) over walking the claim index (7 us), and SQLAlchemy renders no SQLite
# index hints. One language at a time: with several, no index gives the claim order.
_SQLITE_PICK = """
    SELECT * FROM (
        SELECT work_items.id, work_items.clip_id, work_items.assignment_id,
               work_items.claim_rank, clips.language, clips.duration_s, clips.price,
               clips.currency
        FROM work_items INDEXED BY {index}
        JOIN clips ON clips.id = work_items.clip_id
        WHERE work_items.language = :p_language
          AND {state}
          AND NOT EXISTS (
              SELECT 1 FROM assignments
              WHERE assignments.clip_id = work_items.clip_id
                AND assignments.user_id = :p_user_id)
          AND clips.status = 'published'
        ORDER BY work_items.claim_rank, work_items.id
        LIMIT 1)
"""
_NEXT_SLOTS_SQLITE = (
    text(
        _SQLITE_PICK.format(index="ix_work_items_open", state="work_items.state = 'open'")
        + "UNION ALL"
        + _SQLITE_PICK.format(
            index="ix_work_items_leased",
            state="work_items.state = 'leased' AND work_items.lease_expires_at < :p_now",
        )
    )
    .bindparams(bindparam("p_now", type_=_W.c.lease_expires_at.type))
    .columns(*_PICKED)
)
_EXPIRE_HOLDER = (
    update(_A)
    .where(_A.c.id == bindparam("p_holder"), _A.c.state == "leased")
    .values(state="expired", finished_at=bindparam("p_now"))
)
_LEASE_SLOT = (
    update(_W)
    .where(_W.c.id == bindparam("p_item"))
    .values(
        state="leased",
        assignment_id=bindparam("p_assignment"),
        lease_expires_at=bindparam("p_expires"),
    )
)
_NEW_ASSIGNMENT = insert(_A)


def _claim_in_one_statement():
    # PostgreSQL: pick, lock, lease and record the slot in one statement (one round trip).
    # The languages come from the person's qualifications in the same statement (with the one
    # asked for, if any): for each, the first open slot and the first run-out lease in claim
    # order, each locked, then the best of those. Each pick stops after a few entries of its
    # index; a list of languages in a subquery would instead make the planner sort every
    # pending slot. The picks not chosen stay locked (skipped by others) until this statement
    # ends. (Each pick sits in a subquery of its own: PostgreSQL refuses FOR UPDATE in a UNION.)
    asked = bindparam("p_language", type_=_Q.c.language.type)

    def per_language(state, name: str):
        pick = _next_slot(_W.c.language == _Q.c.language, state).lateral(name)
        return (
            select(pick.c.id, pick.c.clip_id, pick.c.assignment_id, pick.c.claim_rank)
            .select_from(_Q.join(pick, true()))
            .where(
                _Q.c.user_id == bindparam("p_user_id"),
                _Q.c.status == QUALIFIED,
                or_(asked.is_(None), _Q.c.language == asked),
            )
        )

    picks = union_all(
        per_language(_OPEN, "open_pick"), per_language(_run_out(bindparam("p_now")), "run_out")
    ).subquery("picks")
    slot = (
        select(picks.c.id, picks.c.clip_id, picks.c.assignment_id)
        .order_by(picks.c.claim_rank, picks.c.id)
        .limit(_ONE)
        .cte("slot")
    )
    # The updates find their row through a scalar subquery on the one-row pick, not a join with
    # it: joined, PostgreSQL scans the whole table for the row (the pick's size is unknown to it
    # when planning), and claims slow down as assignments pile up.
    expire_holder = (
        update(_A)
        .where(_A.c.id == select(slot.c.assignment_id).scalar_subquery(), _A.c.state == "leased")
        .values(state="expired", finished_at=bindparam("p_now"))
        .cte("expire_holder")
    )
    new_assignment = insert(_A).from_select(
        ["id", "work_item_id", "clip_id", "user_id", "state", "is_gold", "leased_at"]
        + ["lease_expires_at"],
        select(
            bindparam("p_assignment", type_=_A.c.id.type),
            slot.c.id,
            slot.c.clip_id,
            bindparam("p_user_id", type_=_A.c.user_id.type),
            literal("leased"),
            false(),
            bindparam("p_now", type_=_A.c.leased_at.type),
            bindparam("p_expires", type_=_A.c.lease_expires_at.type),
        ),
    )
    leased = (
        update(_W)
        .where(_W.c.id == select(slot.c.id).scalar_subquery())
        .values(
            state="leased",
            assignment_id=bindparam("p_assignment"),
            lease_expires_at=bindparam("p_expires"),
        )
        .returning(_W.c.clip_id)
        .cte("leased")
    )
    return (
        select(leased.c.clip_id, _C.c.language, _C.c.duration_s, _C.c.price, _C.c.currency)
        .join_from(leased, _C, _C.c.id == leased.c.clip_id)
        .add_cte(expire_holder, new_assignment.cte("new_assignment"))
    )


CLAIM_IN_ONE = _claim_in_one_statement()


def claim_values(user_id: int, language: str | None, now: datetime, expires: datetime) -> dict:
    """The parameters of the PostgreSQL claim statement, with a new assignment id."""
    return {
        "p_language": language,
        "p_now": now,
        "p_user_id": user_id,
        "p_assignment": secrets.token_hex(16),
        "p_expires": expires,
    }


def claimed_slot(row: Any, values: dict) -> Claim | None:
    """The claim a row of the PostgreSQL claim statement stands for (None: nothing claimed)."""
    if row is None:
        return None
    return _claim_from(row, row.clip_id, values["p_assignment"], values["p_expires"], is_gold=False)


def _claim_slot_in_one(
    connection: Connection, user_id: int, language: str | None, now: datetime, expires: datetime
) -> Claim | None:
    values = claim_values(user_id, language, now, expires)
    return claimed_slot(connection.execute(CLAIM_IN_ONE, values).first(), values)


def _claim_slot(
    connection: Connection, user_id: int, languages: list[str], now: datetime, expires: datetime
) -> Claim | None:
    found = [
        row
        for language in languages
        for row in connection.execute(
            _NEXT_SLOTS_SQLITE, {"p_language": language, "p_now": now, "p_user_id": user_id}
        )
    ]
    if not found:
        return None
    row = min(found, key=lambda row: (row.claim_rank, row.id))
    if row.assignment_id is not None:
        connection.execute(_EXPIRE_HOLDER, {"p_holder": row.assignment_id, "p_now": now})
    assignment_id = secrets.token_hex(16)
    connection.execute(
        _NEW_ASSIGNMENT,
        {
            "id": assignment_id,
            "work_item_id": row.id,
            "clip_id": row.clip_id,
            "user_id": user_id,
            "state": "leased",
            "skip_reason": None,
            "is_gold": False,
            "leased_at": now,
            "lease_expires_at": expires,
            "finished_at": None,
        },
    )
    connection.execute(
        _LEASE_SLOT, {"p_item": row.id, "p_assignment": assignment_id, "p_expires": expires}
    )
    return _claim_from(row, row.clip_id, assignment_id, expires, is_gold=False)


def _claim_gold(
    connection: Connection, user_id: int, languages: list[str], now: datetime, expires: datetime
) -> Claim | None:
    seen_in_exams: set[str] = set()
    for clip_ids in connection.scalars(
        select(ExamAttempt.clip_ids).where(ExamAttempt.user_id == user_id)
    ):
        seen_in_exams.update(clip_ids or ())
    candidates = connection.execute(
        select(_C.c.id, _C.c.language, _C.c.duration_s, _C.c.price, _C.c.currency)
        .join(GoldClip, GoldClip.clip_id == _C.c.id)
        .where(
            _C.c.language.in_(languages),
            _C.c.price.is_not(None),
            ~exists().where(_A.c.clip_id == _C.c.id, _A.c.user_id == user_id),
        )
        .order_by(func.random())
        .limit(len(seen_in_exams) + 1)
    ).all()
    unseen = [row for row in candidates if row.id not in seen_in_exams]
    if not unseen:
        return None
    row = unseen[0]
    assignment_id = secrets.token_hex(16)
    connection.execute(
        insert(_A).values(
            id=assignment_id,
            work_item_id=None,
            clip_id=row.id,
            user_id=user_id,
            state="leased",
            is_gold=True,
            leased_at=now,
            lease_expires_at=expires,
        )
    )
    return _claim_from(row, row.id, assignment_id, expires, is_gold=True)


def _claim_from(
    row: Any, clip_id: str, assignment_id: str, expires: datetime, *, is_gold: bool
) -> Claim:
    """The claim handed back, from a row carrying the clip's language, duration and price."""
    return Claim(
        assignment_id=assignment_id,
        clip_id=clip_id,
        language=row.language,
        duration_s=row.duration_s,
        price=Decimal(row.price),
        currency=row.currency,
        lease_expires_at=expires,
        is_gold=is_gold,
    )


def _no_work(connection: Connection, user_id: int, languages: list[str], now: datetime) -> NoWork:
    held = and_(
        _W.c.language.in_(languages),
        _W.c.state == "leased",
        _W.c.lease_expires_at >= now,
        _not_had_by(user_id),
    )
    count, earliest = connection.execute(
        select(func.count(), func.min(_W.c.lease_expires_at)).where(held)
    ).one()
    connection.rollback()
    where = ", ".join(languages)
    if not count:
        message = f"No clips in {where} right now; more arrive when new audio is published."
        return NoWork(message, None)
    earliest = as_utc(earliest)
    held_by = "1 is" if count == 1 else f"{count} are"
    return NoWork(
        f"No clips in {where} right now; {held_by} held by others under lease, "
        f"the earliest returns at {earliest:%H:%M} UTC.",
        earliest,
    )


def work_overview(session: Session, user_id: int) -> list[WorkOffer]:
    """For each language the person is qualified in: clips they could claim now and their pay."""
    now = utc_now()
    languages = sorted(
        session.scalars(
            select(Qualification.language).where(
                Qualification.user_id == user_id, Qualification.status == QUALIFIED
            )
        )
    )
    if not languages:
        return []
    claimable = select(_W.c.clip_id).where(
        _claimable(_W.c.language.in_(languages), now), _not_had_by(user_id)
    )
    rows = session.execute(
        select(
            _C.c.language,
            _C.c.currency,
            func.count(),
            func.sum(_C.c.price),
            func.sum(_C.c.duration_s),
        )
        .where(_C.c.id.in_(claimable))
        .group_by(_C.c.language, _C.c.currency)
    ).all()
    by_language = {row[0]: row for row in rows}
    offers = []
    for language in languages:
        row = by_language.get(language)
        if row is None or not row[2]:
            offers.append(WorkOffer(language, 0, None, None, None))
            continue
        _, currency, count, total, seconds = row
        total = Decimal(total)
        per_clip = (total / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        per_minute = (total * 60 / Decimal(str(seconds))).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        offers.append(WorkOffer(language, count, per_clip, per_minute, currency))
    return offers
