"""Stuck work: clips waiting for the coordinator, who relabels, re-opens or drops them.

Two kinds: a clip two people skipped as the wrong language (or as empty) is withdrawn from the
queue (``withdrawn``); a clip still published with a slot waiting that no one can take any more
(nobody active is qualified in its language, or every such person already had it) is
``unreachable``. Without this either would stay published for ever, unnoticed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from crowdscribe.clock import as_utc, utc_now
from crowdscribe.errors import Conflict, InvalidInput, NotFound
from crowdscribe.storage.models import Assignment, Clip, Qualification, Recording, User, WorkItem
from crowdscribe.storage.states import AssignmentState, ClipStatus, QualificationStatus, SlotState
from transcribe.relabel import RelabelSummary, relabel_clips

STUCK_REASONS = ("wrong_language", "empty")
# Skips of one reason (since the clip was last relabelled) that take it out of the queue.
SKIPS_TO_WITHDRAW = 2
STUCK = ClipStatus.STUCK
WITHDRAWN = "withdrawn"
UNREACHABLE = "unreachable"


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
    kind: str = WITHDRAWN  # withdrawn | unreachable
    why: str = ""

    def to_dict(self) -> dict:
        return {
            "clip_id": self.clip_id,
            "kind": self.kind,
            "why": self.why,
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


def stuck_clips(session: Session, now: datetime) -> list[StuckClip]:
    """Every clip waiting for the coordinator, with why: those withdrawn after skips (oldest
    first), then those published that nobody left can take (``unreachable_clips``)."""
    return withdrawn_clips(session) + unreachable_clips(session, now)


def withdrawn_clips(session: Session) -> list[StuckClip]:
    """Clips taken out of the queue after skips, oldest first, with their skips by reason."""
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
        _row(
            clip,
            source,
            since=clip.decided_at,
            skips=skips[clip.id],
            kind=WITHDRAWN,
            why="skipped as "
            + ", ".join(f"{reason} by {n}" for reason, n in sorted(skips[clip.id].items())),
        )
        for clip, source in rows
    ]


def _slot_waiting(now: datetime):
    # A slot a claim could hand out now: open, or leased with its lease run out.
    return (
        select(WorkItem.id)
        .where(
            WorkItem.clip_id == Clip.id,
            or_(
                WorkItem.state == SlotState.OPEN,
                and_(WorkItem.state == SlotState.LEASED, WorkItem.lease_expires_at < now),
            ),
        )
        .exists()
    )


def _someone_can_take():
    # An active person qualified (not paused) in the clip's language who never had the clip:
    # the people a claim could give it to (transcribe.dispatch.rules).
    had = (
        select(Assignment.id)
        .where(Assignment.user_id == Qualification.user_id, Assignment.clip_id == Clip.id)
        .exists()
    )
    return (
        select(Qualification.id)
        .join(User, User.id == Qualification.user_id)
        .where(
            Qualification.language == Clip.language,
            Qualification.status == QualificationStatus.QUALIFIED,
            User.active.is_(True),
            ~had,
        )
        .exists()
    )


def unreachable_clips(session: Session, now: datetime) -> list[StuckClip]:
    """Published clips with a slot waiting that no one can take: nobody active is qualified in
    the language, or everyone who is already had the clip. Each says why, oldest first."""
    rows = session.execute(
        select(Clip, Recording.source)
        .join(Recording, Recording.id == Clip.recording_id)
        .where(Clip.status == ClipStatus.PUBLISHED, _slot_waiting(now), ~_someone_can_take())
        .order_by(Clip.created_at, Clip.id)
    ).all()
    return [
        _row(
            clip,
            source,
            since=clip.created_at,
            kind=UNREACHABLE,
            why=_why_unreachable(session, clip),
        )
        for clip, source in rows
    ]


def _row(clip: Clip, source: str, since: datetime | None, **kind_and_why) -> StuckClip:
    """A stuck clip as listed: what it is, where from, and since when it waits."""
    return StuckClip(
        clip_id=clip.id,
        source=source,
        language=clip.language,
        speaker_group=clip.speaker_group,
        project=clip.project,
        duration_s=clip.duration_s,
        since=as_utc(since) if since else None,
        **kind_and_why,
    )


def _why_unreachable(session: Session, clip: Clip) -> str:
    people = session.execute(
        select(User.id, User.active, Qualification.status)
        .join(Qualification, Qualification.user_id == User.id)
        .where(Qualification.language == clip.language)
    ).all()
    able = {
        uid for uid, active, status in people if active and status == QualificationStatus.QUALIFIED
    }
    if able:
        return f"all {len(able)} active people qualified in {clip.language} already had it"
    paused = sum(
        1 for _, active, status in people if active and status != QualificationStatus.QUALIFIED
    )
    gone = sum(1 for _, active, _status in people if not active)
    if paused or gone:
        return (
            f"nobody active is qualified in {clip.language} ({paused} paused, {gone} deactivated)"
        )
    return f"nobody active is qualified in {clip.language}"


def _still_unreachable(session: Session, clip_id: str, now: datetime) -> bool:
    return (
        session.scalar(
            select(Clip.id).where(Clip.id == clip_id, _slot_waiting(now), ~_someone_can_take())
        )
        is not None
    )


def _stuck_clip(session: Session, clip_id: str, now: datetime) -> Clip:
    """The clip, if it waits for the coordinator (withdrawn, or published and unreachable)."""
    clip = session.get(Clip, clip_id, with_for_update=True)
    if clip is None:
        raise NotFound(f"there is no clip {clip_id}; see `crowdscribe stuck list`")
    if clip.status == ClipStatus.PUBLISHED and _still_unreachable(session, clip_id, now):
        return clip
    if clip.status != STUCK:
        raise Conflict(
            f"clip {clip_id} is {clip.status} and not stuck: "
            + (
                "people can still take it"
                if clip.status == ClipStatus.PUBLISHED
                else "it is not waiting for a coordinator"
            )
        )
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
    """Relabel a stuck clip and publish it (again): its slots reopen in the new language at the
    new price (people who had it already never get it again)."""
    clip = _stuck_clip(session, clip_id, now)
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
    _publish_again(session, clip)
    return summary


def reopen_stuck(session: Session, clip_id: str, now: datetime) -> None:
    """Publish a withdrawn clip again as it is labelled, for people qualified since (or whose
    pause ended); refused while still nobody could take it, with why and what to do."""
    clip = _stuck_clip(session, clip_id, now)
    if clip.status == ClipStatus.PUBLISHED:
        raise Conflict(
            f"clip {clip_id} is published already but {_why_unreachable(session, clip)}: qualify "
            f"someone new in {clip.language} (`crowdscribe users edit NAME --qualified "
            f"{clip.language}`) and it is taken, or relabel or drop it"
        )
    if not _someone_could_take(session, clip_id):
        raise Conflict(
            f"nobody could take clip {clip_id} yet: {_why_unreachable(session, clip)}; qualify "
            f"someone new in {clip.language} first, or relabel or drop it"
        )
    _publish_again(session, clip)


def _someone_could_take(session: Session, clip_id: str) -> bool:
    return (
        session.scalar(select(Clip.id).where(Clip.id == clip_id, _someone_can_take())) is not None
    )


def _publish_again(session: Session, clip: Clip) -> None:
    clip.status, clip.decided_at = ClipStatus.PUBLISHED, None
    session.execute(
        update(WorkItem)
        .where(WorkItem.clip_id == clip.id, WorkItem.state == SlotState.WITHDRAWN)
        .values(state=SlotState.OPEN)
    )
    session.flush()


def drop_stuck(session: Session, clip_id: str, now: datetime) -> None:
    """Give up on a stuck clip: it becomes unusable (never exported), its open slots close."""
    clip = _stuck_clip(session, clip_id, now)
    clip.status, clip.decision, clip.decided_at = ClipStatus.UNUSABLE, "dropped", utc_now(now)
    clip.final_text = None
    session.execute(
        update(WorkItem)
        .where(WorkItem.clip_id == clip.id, WorkItem.state == SlotState.OPEN)
        .values(state=SlotState.WITHDRAWN)
    )
    session.flush()
