"""Clips for a reviewer: the dispute queue, one dispute with its transcripts side by side, and
resolving it (accept one transcript, an edited final text, or mark the clip unusable).

Resolving sets the clip's final text (status ``resolved``) or marks it ``unusable``, scores every
transcript against the final text and settles its pay (see ``review.settlement``). A dispute is
resolved once: a second attempt is a Conflict naming who resolved it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crowdscribe.clock import as_utc, utc_now
from crowdscribe.errors import Conflict, Forbidden, InvalidInput, NotFound
from crowdscribe.storage.models import Assignment, Clip, Dispute, Submission, User
from crowdscribe.storage.states import ClipStatus, DisputeResolution, DisputeState
from review.accuracy import track_record
from review.agreement import VerbatimDifference, verbatim_table
from review.consensus import align_many
from review.project_policies import PolicyBook
from review.settlement import credit_unscored, settle_against_final
from transcribe.conventions import check_transcript
from transcribe.pricing import RateCard, default_rate_card

UNUSABLE_REASONS = ("bad_audio", "wrong_language", "no_speech", "crosstalk", "other")


@dataclass(frozen=True)
class DisputeSummary:
    """One line of the queue."""

    id: int
    clip_id: str
    kind: str  # disagreement | bad_audio
    state: str  # open | resolved
    language: str
    speaker_group: str
    project: str
    duration_s: float
    agreement_error: float | None
    transcripts: int
    created_at: datetime

    def age_s(self, now: datetime) -> float:
        return (now - as_utc(self.created_at)).total_seconds()

    def to_dict(self, now: datetime | None = None) -> dict:
        now = utc_now(now)
        return {
            "id": self.id,
            "clip_id": self.clip_id,
            "kind": self.kind,
            "state": self.state,
            "language": self.language,
            "speaker_group": self.speaker_group,
            "project": self.project,
            "duration_s": self.duration_s,
            "agreement_error": self.agreement_error,
            "transcripts": self.transcripts,
            "created_at": as_utc(self.created_at).isoformat(),
            "age_s": round(self.age_s(now), 1),
        }


@dataclass(frozen=True)
class TranscriptView:
    """A transcript under review, with its author's track record in the clip's language."""

    number: int  # 1-based, the key a reviewer presses to accept it
    submission_id: int
    user_id: int
    name: str
    text: str
    status: str  # counted | late
    track_error_rate: float | None
    track_clips: int
    error_vs_final: float | None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class DisputeDetail:
    """Everything a reviewer needs to decide one dispute."""

    summary: DisputeSummary
    transcripts: tuple[TranscriptView, ...]
    alignment: object | None  # review.consensus.MultiAlignment, None without transcripts
    verbatim: tuple[VerbatimDifference, ...]  # fillers, repetitions, cut-offs, tags apart
    skip_reasons: tuple[str, ...]
    resolution: str | None
    reason_code: str | None
    final_text: str | None
    resolver: str | None
    resolved_at: datetime | None


@dataclass(frozen=True)
class Resolution:
    dispute_id: int
    clip_id: str
    resolution: str  # accepted | edited | unusable
    final_text: str | None
    reason_code: str | None
    scored: tuple[tuple[int, float, bool], ...]  # (submission id, error vs final, accepted)
    user_ids: tuple[int, ...]  # whose accuracy may have changed


def _summary_query():
    transcripts = (
        select(func.count(Submission.id))
        .where(Submission.clip_id == Dispute.clip_id, Submission.is_gold.is_(False))
        .scalar_subquery()
    )
    return select(Dispute, Clip, transcripts).join(Clip, Clip.id == Dispute.clip_id)


def _summary(dispute: Dispute, clip: Clip, transcripts: int) -> DisputeSummary:
    return DisputeSummary(
        id=dispute.id,
        clip_id=clip.id,
        kind=dispute.kind,
        state=dispute.state,
        language=clip.language,
        speaker_group=clip.speaker_group,
        project=clip.project,
        duration_s=clip.duration_s,
        agreement_error=dispute.agreement_error,
        transcripts=transcripts,
        created_at=dispute.created_at,
    )


def open_dispute_facets(session: Session) -> tuple[list[str], list[str]]:
    """The languages and the projects that have open disputes, sorted (the queue's filters)."""
    rows = session.execute(
        select(Clip.language, Clip.project)
        .join(Dispute, Dispute.clip_id == Clip.id)
        .where(Dispute.state == DisputeState.OPEN)
    ).all()
    return sorted({row.language for row in rows}), sorted({row.project for row in rows})


def dispute_queue(
    session: Session,
    *,
    language: str | None = None,
    project: str | None = None,
    min_age_s: float | None = None,
    state: DisputeState = DisputeState.OPEN,
    now: datetime | None = None,
    limit: int = 200,
) -> list[DisputeSummary]:
    """Disputes in ``state``, oldest first, filtered by language, project and minimum age."""
    query = _summary_query().where(Dispute.state == state)
    if language:
        query = query.where(Clip.language == language)
    if project:
        query = query.where(Clip.project == project)
    if min_age_s:
        cutoff = utc_now(now) - timedelta(seconds=min_age_s)
        query = query.where(Dispute.created_at <= cutoff)
    query = query.order_by(Dispute.created_at, Dispute.id).limit(limit)
    return [_summary(*row) for row in session.execute(query).all()]


def dispute_detail(session: Session, dispute_id: int, *, window: int = 50) -> DisputeDetail:
    """One dispute: its transcripts (numbered, with track records) aligned column by column."""
    row = session.execute(_summary_query().where(Dispute.id == dispute_id)).one_or_none()
    if row is None:
        raise NotFound(f"there is no dispute {dispute_id}; see the dispute queue")
    dispute, clip, count = row
    rows = session.execute(
        select(Submission, User.name)
        .join(User, User.id == Submission.user_id)
        .where(Submission.clip_id == clip.id, Submission.is_gold.is_(False))
        .order_by(Submission.status, Submission.id)
    ).all()
    views = []
    for number, (submission, name) in enumerate(rows, start=1):
        record = track_record(session, submission.user_id, clip.language, window=window)
        views.append(
            TranscriptView(
                number=number,
                submission_id=submission.id,
                user_id=submission.user_id,
                name=name,
                text=submission.text,
                status=submission.status,
                track_error_rate=record.mean if record else None,
                track_clips=record.clips if record else 0,
                error_vs_final=submission.error_vs_final,
            )
        )
    skips = session.scalars(
        select(Assignment.skip_reason).where(
            Assignment.clip_id == clip.id, Assignment.skip_reason.is_not(None)
        )
    ).all()
    resolver = session.get(User, dispute.resolver_id) if dispute.resolver_id else None
    return DisputeDetail(
        summary=_summary(dispute, clip, count),
        transcripts=tuple(views),
        alignment=align_many([view.text for view in views], clip.language) if views else None,
        verbatim=verbatim_table([view.text for view in views], clip.language),
        skip_reasons=tuple(skips),
        resolution=dispute.resolution,
        reason_code=dispute.reason_code,
        final_text=dispute.final_text,
        resolver=resolver.name if resolver else None,
        resolved_at=dispute.resolved_at,
    )


def disputed_clip_audio(session: Session, clip_id: str) -> str:
    """The relative audio path of a clip under dispute (open or resolved) for a reviewer."""
    path = session.scalar(
        select(Clip.audio_path).join(Dispute, Dispute.clip_id == Clip.id).where(Clip.id == clip_id)
    )
    if path is None:
        raise NotFound(f"clip {clip_id} is not under dispute, so it cannot be played here")
    return path


def _check_reviewer(session: Session, reviewer_id: int, clip_id: str) -> None:
    reviewer = session.get(User, reviewer_id)
    if reviewer is None or not reviewer.active or "reviewer" not in reviewer.roles.split(","):
        raise Forbidden("only people with the reviewer role can resolve disputes")
    own = session.scalar(
        select(Submission.id).where(
            Submission.clip_id == clip_id, Submission.user_id == reviewer_id
        )
    )
    if own is not None:
        raise Forbidden("you transcribed this clip yourself; another reviewer must decide it")


def _chosen_final(
    session: Session,
    clip: Clip,
    accept_submission_id: int | None,
    final_text: str | None,
    unusable: bool,
    reason_code: str | None,
) -> tuple[str, str | None]:
    """(resolution, final text) from the reviewer's one choice; refuses anything else."""
    chosen = sum([accept_submission_id is not None, final_text is not None, bool(unusable)])
    if chosen != 1:
        raise InvalidInput(
            "choose exactly one: accept a transcript, give an edited final text, "
            "or mark the clip unusable"
        )
    if unusable:
        if reason_code not in UNUSABLE_REASONS:
            raise InvalidInput(
                f"marking a clip unusable needs a reason code: {', '.join(UNUSABLE_REASONS)}"
            )
        return DisputeResolution.UNUSABLE, None
    if final_text is not None:
        return DisputeResolution.EDITED, check_transcript(final_text, clip.language)
    submission = session.get(Submission, accept_submission_id)
    if submission is None or submission.clip_id != clip.id or submission.is_gold:
        raise InvalidInput(f"transcript {accept_submission_id} is not one of this clip's")
    return DisputeResolution.ACCEPTED, check_transcript(submission.text, clip.language)


def resolve_dispute(
    session: Session,
    dispute_id: int,
    reviewer_id: int,
    *,
    accept_submission_id: int | None = None,
    final_text: str | None = None,
    unusable: bool = False,
    reason_code: str | None = None,
    policies: PolicyBook | None = None,
    card: RateCard | None = None,
    now: datetime | None = None,
) -> Resolution:
    """Settle a dispute with the reviewer's one choice, score the transcripts, settle their pay."""
    now = utc_now(now)
    dispute = session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFound(f"there is no dispute {dispute_id}; see the dispute queue")
    clip = session.get(Clip, dispute.clip_id)
    _check_reviewer(session, reviewer_id, clip.id)
    if dispute.state != DisputeState.OPEN:
        raise _already_resolved(session, dispute)
    resolution, final = _chosen_final(
        session, clip, accept_submission_id, final_text, unusable, reason_code
    )
    # The conditional update makes a concurrent second resolution fail instead of overwrite.
    moved = session.execute(
        update(Dispute)
        .where(Dispute.id == dispute.id, Dispute.state == DisputeState.OPEN)
        .values(
            state=DisputeState.RESOLVED,
            resolved_at=now,
            resolver_id=reviewer_id,
            resolution=resolution,
            reason_code=reason_code,
            final_text=final,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        session.refresh(dispute)
        raise _already_resolved(session, dispute)
    clip.status = ClipStatus.UNUSABLE if unusable else ClipStatus.RESOLVED
    clip.final_text = final
    clip.decision = f"unusable:{reason_code}" if unusable else f"review:{resolution}"
    clip.decided_at = now
    session.flush()
    card = card or default_rate_card()
    if unusable:
        credit_unscored(session, clip, card, now)
        scored: list[tuple[int, float, bool]] = []
    else:
        policy = (policies or PolicyBook()).for_project(clip.project)
        threshold = policy.threshold_for(clip.language, clip.speaker_group)
        scored = settle_against_final(session, clip, final, threshold, card, now)
    session.refresh(dispute)
    users = session.scalars(
        select(Submission.user_id).where(Submission.clip_id == clip.id).distinct()
    ).all()
    return Resolution(
        dispute_id=dispute.id,
        clip_id=clip.id,
        resolution=resolution,
        final_text=final,
        reason_code=reason_code,
        scored=tuple(scored),
        user_ids=tuple(sorted(users)),
    )


def _already_resolved(session: Session, dispute: Dispute) -> Conflict:
    resolver = session.get(User, dispute.resolver_id) if dispute.resolver_id else None
    who = resolver.name if resolver else "another reviewer"
    when = as_utc(dispute.resolved_at).strftime("%Y-%m-%d %H:%M UTC") if dispute.resolved_at else ""
    return Conflict(
        f"dispute {dispute.id} was already resolved ({dispute.resolution}) by {who} {when}".strip()
    )
