"""Stuck work: a clip two people skipped as the wrong language (or as empty) leaves the queue for
the coordinator, who relabels it (published again, in the right language) or drops it. Without
this it would stay published for ever, with no one able to finish it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from crowdscribe.clock import as_utc, utc_now
from crowdscribe.errors import Conflict, InvalidInput, NotFound
from crowdscribe.storage.models import (
    Assignment,
    AssignmentState,
    Clip,
    ClipStatus,
    Recording,
    SlotState,
    WorkItem,
)
from transcribe.relabel import RelabelSummary, relabel_clips

STUCK_REASONS = ("wrong_language", "empty")
# Skips of one reason (since the clip was last relabelled) that take it out of the queue.
SKIPS_TO_WITHDRAW = 2
STUCK = ClipStatus.STUCK


@dataclass(frozen=True)
class StuckClip:
    """A clip waiting for the coordinator, with the skips that sent it there."""

    clip_id: str
    source: str
    language: str
    speaker_group: str
    project: str
    duration_s: float
    skips: dict[str, int] = field(default_factory=dict)
    since: datetime | None = None

    def to_dict(self) -> dict:
        return {
            "clip_id": self.clip_id,
            "source": self.source,
            "language": self.language,
            "speaker_group": self.speaker_group,
            "project": self.project,
            "duration_s": round(self.duration_s, 2),
            "skips": self.skips,
            "since": self.since.isoformat() if self.since else None,
        }


def _counted_skips() -> tuple:
    # Skips after the last relabel: the ones before were about the old labels.
    return (
        Assignment.state == AssignmentState.SKIPPED,
        Assignment.skip_reason.in_(STUCK_REASONS),
        or_(Clip.relabelled_at.is_(None), Assignment.finished_at > Clip.relabelled_at),
    )


def withdraw_if_stuck(session: Session, clip_id: str, now: datetime) -> bool:
    """After a skip: take the clip out of the queue (open slots withdrawn) when enough people
    skipped it for one reason, and commit. Returns whether it was withdrawn."""
    counts = session.execute(
        select(Assignment.skip_reason, func.count())
        .join(Clip, Clip.id == Assignment.clip_id)
        .where(Assignment.clip_id == clip_id, *_counted_skips())
        .group_by(Assignment.skip_reason)
    ).all()
    if max((count for _, count in counts), default=0) < SKIPS_TO_WITHDRAW:
        return False
    withdrawn = session.execute(
        update(Clip)
        .where(Clip.id == clip_id, Clip.status == ClipStatus.PUBLISHED)
        .values(status=STUCK, decided_at=utc_now(now))
    ).rowcount
    if withdrawn:
        session.execute(
            update(WorkItem)
            .where(WorkItem.clip_id == clip_id, WorkItem.state == SlotState.OPEN)
            .values(state=SlotState.WITHDRAWN)
        )
    session.commit()
    return bool(withdrawn)


def stuck_clips(session: Session) -> list[StuckClip]:
    """Every clip waiting for the coordinator, oldest first, with its skips by reason."""
    rows = session.execute(
        select(Clip, Recording.source)
        .join(Recording, Recording.id == Clip.recording_id)
        .where(Clip.status == STUCK)
        .order_by(Clip.decided_at, Clip.id)
    ).all()
    skips: dict[str, dict[str, int]] = defaultdict(dict)
    if rows:
        for clip_id, reason, count in session.execute(
            select(Assignment.clip_id, Assignment.skip_reason, func.count())
            .join(Clip, Clip.id == Assignment.clip_id)
            .where(Clip.status == STUCK, *_counted_skips())
            .group_by(Assignment.clip_id, Assignment.skip_reason)
        ):
            skips[clip_id][reason] = count
    return [
        StuckClip(
            clip_id=clip.id,
            source=source,
            language=clip.language,
            speaker_group=clip.speaker_group,
            project=clip.project,
            duration_s=clip.duration_s,
            skips=skips[clip.id],
            since=as_utc(clip.decided_at) if clip.decided_at else None,
        )
        for clip, source in rows
    ]


def _stuck_clip(session: Session, clip_id: str) -> Clip:
    clip = session.get(Clip, clip_id, with_for_update=True)
    if clip is None:
        raise NotFound(f"there is no clip {clip_id}; see `crowdscribe stuck`")
    if clip.status != STUCK:
        raise Conflict(f"clip {clip_id} is {clip.status}, not waiting in the stuck queue")
    return clip


def republish_stuck(
    session: Session,
    clip_id: str,
    *,
    language: str | None,
    speaker_group: str | None,
    reason: str,
    rates_file: Path | None,
    default_overlap: int,
    now: datetime,
) -> RelabelSummary:
    """Relabel a stuck clip and publish it again: its withdrawn slots reopen in the new language
    at the new price (people who had it already never get it again)."""
    clip = _stuck_clip(session, clip_id)
    if language is None and speaker_group is None:
        raise InvalidInput("give --language and/or --speaker-group to publish it again")
    summary = relabel_clips(
        session,
        [clip.id],
        speaker_group=speaker_group,
        language=language,
        reason=reason,
        rates_file=rates_file,
        default_overlap=default_overlap,
        now=now,
    )
    clip.status, clip.decided_at = ClipStatus.PUBLISHED, None
    session.execute(
        update(WorkItem)
        .where(WorkItem.clip_id == clip.id, WorkItem.state == SlotState.WITHDRAWN)
        .values(state=SlotState.OPEN)
    )
    session.flush()
    return summary


def drop_stuck(session: Session, clip_id: str, now: datetime) -> None:
    """Give up on a stuck clip: it becomes unusable (never exported), its slots stay closed."""
    clip = _stuck_clip(session, clip_id)
    clip.status, clip.decision, clip.decided_at = ClipStatus.UNUSABLE, "dropped", utc_now(now)
    clip.final_text = None
    session.flush()
