"""The dispatch queue: publishing clips as transcription slots and handing them out fairly.

A published clip with overlap N has N ``work_items`` (slots). ``claim_next_clip`` gives a
qualified person the oldest open slot of the highest priority in their languages, under a lease;
a slot whose lease ran out is claimable again in the same query. Nobody gets the same clip twice.
Submitting, renewing and skipping live in ``transcribe.leases`` and are re-exported here.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Connection, and_, exists, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from crowdscribe.storage.db import Database
from crowdscribe.storage.models import (
    Assignment,
    Clip,
    ExamAttempt,
    GoldClip,
    Qualification,
    WorkItem,
)
from transcribe.errors import Conflict, InvalidInput, NotFound, NotQualified
from transcribe.leases import (
    SKIP_REASONS,
    Receipt,
    held_clip_path,
    renew_lease,
    skip_assignment,
    submit_transcript,
)
from transcribe.pricing import RateCard, price_clip
from transcribe.transactions import as_utc, begin_session_write, run_write, utc_now
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
    "submit_transcript",
    "work_overview",
]

# Constants are inlined (not bound) so the planner can match the partial claim index.
_PENDING = text("work_items.state IN ('open', 'leased')")
_W = WorkItem.__table__
_A = Assignment.__table__
_C = Clip.__table__


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
class PublishSummary:
    """What one publishing run did: clips published, slots created, gold clips kept back."""

    published: int
    slots: int
    gold_kept_back: int
    currency: str
    by_language: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


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


def publish_clips(
    session: Session, *, project: str | None, overlap: int, card: RateCard, now: datetime
) -> PublishSummary:
    """Turn collected clips into ``overlap`` open slots each, with their price fixed now.

    Gold clips are never published as work; they are priced (so they can be mixed into work at
    the same pay) and keep their status.
    """
    if overlap < 1:
        raise InvalidInput(f"overlap must be at least 1, not {overlap}")
    now = utc_now(now)
    begin_session_write(session)
    gold_ids = set(session.scalars(select(GoldClip.clip_id)))
    query = select(_C.c.id, _C.c.duration_s, _C.c.language, _C.c.speaker_group, _C.c.priority)
    query = query.where(_C.c.status == "collected")
    if project is not None:
        query = query.where(_C.c.project == project)
    # Two publishers at once must not both create the slots of one clip.
    query = query.order_by(_C.c.created_at, _C.c.id).with_for_update(skip_locked=True)
    published, priced_gold, slots, by_language = [], [], [], Counter()
    for clip in session.execute(query).all():
        price = price_clip(clip.duration_s, clip.language, clip.speaker_group, card)
        if clip.id in gold_ids:
            priced_gold.append({"id": clip.id, "price": price, "currency": card.currency})
            continue
        published.append(
            {
                "id": clip.id,
                "status": "published",
                "price": price,
                "currency": card.currency,
                "overlap": overlap,
                "published_at": now,
            }
        )
        by_language[clip.language] += 1
        slots += [
            {
                "clip_id": clip.id,
                "slot": slot,
                "language": clip.language,
                "priority": clip.priority or 0,
                "state": "open",
                "created_at": now,
            }
            for slot in range(1, overlap + 1)
        ]
    kept_back = len(priced_gold)
    priced_gold += _price_unpriced_gold(session, gold_ids - {v["id"] for v in priced_gold}, card)
    for batch in (published, priced_gold):
        if batch:
            session.execute(update(Clip), batch)
    if slots:
        session.execute(insert(WorkItem), slots)
    session.flush()
    return PublishSummary(
        published=len(published),
        slots=len(slots),
        gold_kept_back=kept_back,
        currency=card.currency,
        by_language=dict(sorted(by_language.items())),
    )


def _price_unpriced_gold(session: Session, gold_ids: set[str], card: RateCard) -> list[dict]:
    # Gold made from a clip that was never collected-and-published here may still lack a price.
    if not gold_ids:
        return []
    rows = session.execute(
        select(_C.c.id, _C.c.duration_s, _C.c.language, _C.c.speaker_group).where(
            _C.c.id.in_(sorted(gold_ids)), _C.c.price.is_(None)
        )
    )
    return [
        {
            "id": clip_id,
            "price": price_clip(seconds, language, group, card),
            "currency": card.currency,
        }
        for clip_id, seconds, language, group in rows
    ]


def add_slot(session: Session, clip_id: str, now: datetime) -> int:
    """Open one more independent transcription of a published clip (review escalation);
    returns the new slot number."""
    clip = session.get(Clip, clip_id, with_for_update=True)
    if clip is None:
        raise NotFound(f"there is no clip {clip_id}")
    if clip.published_at is None:
        raise Conflict(f"clip {clip_id} is not published; run `crowdscribe dispatch` first")
    last = session.scalar(select(func.max(WorkItem.slot)).where(WorkItem.clip_id == clip_id)) or 0
    session.add(
        WorkItem(
            clip_id=clip_id,
            slot=last + 1,
            language=clip.language,
            priority=clip.priority or 0,
            state="open",
            created_at=utc_now(now),
        )
    )
    clip.overlap = (clip.overlap or 0) + 1
    session.flush()
    return last + 1


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
    languages = _claimable_languages(db, user_id, language)
    expires = now + timedelta(seconds=lease_s)
    if gold_rate > 0 and random.random() < gold_rate:
        claim = run_write(db.engine, lambda c: _claim_gold(c, user_id, languages, now, expires))
        if claim is not None:
            return claim
    claim = run_write(db.engine, lambda c: _claim_slot(c, user_id, languages, now, expires))
    if claim is not None:
        return claim
    return _no_work(db, user_id, languages, now)


def _claimable_languages(db: Database, user_id: int, language: str | None) -> list[str]:
    with db.engine.connect() as connection:
        qualified = sorted(
            connection.scalars(
                select(Qualification.language).where(
                    Qualification.user_id == user_id, Qualification.status == QUALIFIED
                )
            )
        )
    if language is not None:
        language = language.strip().lower()
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


def _not_had_by(user_id: int):
    return ~exists().where(_A.c.clip_id == _W.c.clip_id, _A.c.user_id == user_id)


def _claimable(languages: list[str], now: datetime):
    # An expired lease is as good as an open slot: whoever claims it next takes it over.
    return and_(
        _W.c.language.in_(languages),
        _PENDING,
        or_(_W.c.state == "open", _W.c.lease_expires_at < now),
    )


def _claim_slot(
    connection: Connection, user_id: int, languages: list[str], now: datetime, expires: datetime
) -> Claim | None:
    query = (
        select(
            _W.c.id,
            _W.c.clip_id,
            _W.c.assignment_id,
            _C.c.language,
            _C.c.duration_s,
            _C.c.price,
            _C.c.currency,
        )
        .join(_C, _C.c.id == _W.c.clip_id)
        .where(_claimable(languages, now), _not_had_by(user_id))
        .order_by(_W.c.priority.desc(), _W.c.id)
        .limit(1)
        .with_for_update(of=_W, skip_locked=True)
    )
    row = connection.execute(query).first()
    if row is None:
        return None
    if row.assignment_id is not None:
        connection.execute(
            update(_A)
            .where(_A.c.id == row.assignment_id, _A.c.state == "leased")
            .values(state="expired", finished_at=now)
        )
    assignment_id = secrets.token_hex(16)
    connection.execute(
        insert(_A).values(
            id=assignment_id,
            work_item_id=row.id,
            clip_id=row.clip_id,
            user_id=user_id,
            state="leased",
            is_gold=False,
            leased_at=now,
            lease_expires_at=expires,
        )
    )
    connection.execute(
        update(_W)
        .where(_W.c.id == row.id)
        .values(state="leased", assignment_id=assignment_id, lease_expires_at=expires)
    )
    return Claim(
        assignment_id=assignment_id,
        clip_id=row.clip_id,
        language=row.language,
        duration_s=row.duration_s,
        price=Decimal(row.price),
        currency=row.currency,
        lease_expires_at=expires,
        is_gold=False,
    )


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
    return Claim(
        assignment_id=assignment_id,
        clip_id=row.id,
        language=row.language,
        duration_s=row.duration_s,
        price=Decimal(row.price),
        currency=row.currency,
        lease_expires_at=expires,
        is_gold=True,
    )


def _no_work(db: Database, user_id: int, languages: list[str], now: datetime) -> NoWork:
    held = and_(
        _W.c.language.in_(languages),
        _W.c.state == "leased",
        _W.c.lease_expires_at >= now,
        _not_had_by(user_id),
    )
    with db.engine.connect() as connection:
        count, earliest = connection.execute(
            select(func.count(), func.min(_W.c.lease_expires_at)).where(held)
        ).one()
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
    claimable = select(_W.c.clip_id).where(_claimable(languages, now), _not_had_by(user_id))
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
