"""Publishing: collected clips become priced transcription slots (``work_items``).

A published clip with overlap N has N slots; ``add_slot`` opens one more when review wants
another independent transcription. Gold clips are priced but never published as work.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from crowdscribe.clock import utc_now
from crowdscribe.errors import Conflict, InvalidInput, NotFound
from crowdscribe.storage.models import Clip, GoldClip, WorkItem
from crowdscribe.storage.states import ClipStatus, SlotState
from transcribe.dispatch.writes import begin_session_write
from transcribe.pricing import RateCard, price_clip

_C = Clip.__table__


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
    query = query.where(_C.c.status == ClipStatus.COLLECTED)
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
                "status": ClipStatus.PUBLISHED,
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
                "claim_rank": -(clip.priority or 0),
                "state": SlotState.OPEN,
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
            claim_rank=-(clip.priority or 0),
            state=SlotState.OPEN,
            created_at=utc_now(now),
        )
    )
    clip.overlap = (clip.overlap or 0) + 1
    session.flush()
    return last + 1
