"""The database step of agreement: find clips whose transcriptions are complete and apply each
clip's decision (accept, one more slot, or a dispute) exactly once.

A clip is complete when it is still ``published`` and all its work items are done, or when two
people skipped it as bad audio. A decision moves the clip out of ``published`` (agreed / disputed)
or adds an open slot, so a re-run finds nothing to redo: a decided clip is skipped and a clip
with an added slot waits until that slot is done.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from crowdscribe.storage.models import Assignment, Clip, Dispute, GoldClip, Submission, WorkItem
from crowdscribe.storage.states import (
    ClipStatus,
    DisputeKind,
    DisputeState,
    SlotState,
    SubmissionStatus,
)
from review.accuracy import expected_errors
from review.decisions import (
    ACCEPT,
    BAD_AUDIO_SKIPS_FOR_DISPUTE,
    SINGLE,
    TRANSCRIBE_MORE,
    Decision,
    decide_clip,
)
from review.project_policies import PolicyBook
from review.script import final_script
from review.settlement import credit_unscored, score_gold_submission, settle_against_final
from transcribe.conventions import is_chinese
from transcribe.pricing import RateCard
from transcribe.publishing import add_slot

DEFAULT_WINDOW = 50  # scored clips in a track record, as Settings.accuracy_window
# Upper edges of the agreement-error histogram bins; the last bin is everything above 0.50.
HISTOGRAM_EDGES = (0.0, 0.05, 0.10, 0.20, 0.50)


def histogram_bin(rate: float) -> str:
    """The label of the histogram bin holding ``rate`` ("0", "≤0.05", ..., ">0.50")."""
    if rate <= 0.0:
        return "0"
    for edge in HISTOGRAM_EDGES[1:]:
        if rate <= edge:
            return f"≤{edge:.2f}"
    return f">{HISTOGRAM_EDGES[-1]:.2f}"


def histogram_labels() -> list[str]:
    """Every bin label, in order, for tables that show empty bins too."""
    upper = [f"≤{edge:.2f}" for edge in HISTOGRAM_EDGES[1:]]
    return ["0", *upper, f">{HISTOGRAM_EDGES[-1]:.2f}"]


@dataclass
class BatchSummary:
    """What one batch did: counts per outcome, the agreement histogram, and whose work was
    scored (their accuracy may need checking)."""

    accepted: int = 0
    more_transcriptions: int = 0
    disputed: int = 0
    unusable: int = 0  # bad-audio disputes: candidates for "unusable"
    skipped: int = 0  # already decided or no longer complete (a concurrent or earlier run)
    histogram: Counter = field(default_factory=Counter)
    scored_users: set[int] = field(default_factory=set)

    def to_dict(self) -> dict:
        return {
            "accepted": self.accepted,
            "more_transcriptions": self.more_transcriptions,
            "disputed": self.disputed,
            "unusable": self.unusable,
            "skipped": self.skipped,
            "histogram": {label: self.histogram.get(label, 0) for label in histogram_labels()},
            "scored_users": sorted(self.scored_users),
        }


def _complete_condition():
    open_items = (
        select(WorkItem.id)
        .where(WorkItem.clip_id == Clip.id, WorkItem.state != SlotState.DONE)
        .exists()
    )
    any_items = select(WorkItem.id).where(WorkItem.clip_id == Clip.id).exists()
    bad_audio = (
        select(func.count(Assignment.id))
        .where(Assignment.clip_id == Clip.id, Assignment.skip_reason == "bad_audio")
        .scalar_subquery()
    )
    return and_(
        Clip.status == ClipStatus.PUBLISHED,
        or_(and_(any_items, ~open_items), bad_audio >= BAD_AUDIO_SKIPS_FOR_DISPUTE),
    )


def complete_clip_ids(
    session: Session, *, project: str | None = None, after: str | None = None, limit: int = 500
) -> list[str]:
    """Up to ``limit`` ids of complete, undecided clips, in id order after ``after`` (keyset
    paging, so a caller can walk all of them in batches)."""
    query = select(Clip.id).where(_complete_condition())
    if project is not None:
        query = query.where(Clip.project == project)
    if after is not None:
        query = query.where(Clip.id > after)
    return list(session.scalars(query.order_by(Clip.id).limit(limit)))


def _evidence(session: Session, clip_ids: Sequence[str]):
    texts: dict[str, list[Submission]] = defaultdict(list)
    for submission in session.scalars(
        select(Submission)
        .where(
            Submission.clip_id.in_(clip_ids),
            Submission.status == SubmissionStatus.COUNTED,
            Submission.is_gold.is_(False),
        )
        .order_by(Submission.id)
    ):
        texts[submission.clip_id].append(submission)
    skips: dict[str, list[str]] = defaultdict(list)
    for clip_id, reason in session.execute(
        select(Assignment.clip_id, Assignment.skip_reason).where(
            Assignment.clip_id.in_(clip_ids), Assignment.skip_reason.is_not(None)
        )
    ):
        skips[clip_id].append(reason)
    slots = dict(
        session.execute(
            select(WorkItem.clip_id, func.count(WorkItem.id))
            .where(WorkItem.clip_id.in_(clip_ids))
            .group_by(WorkItem.clip_id)
        ).all()
    )
    return texts, skips, slots


def process_clips(
    session: Session,
    clip_ids: Sequence[str],
    *,
    policies: PolicyBook,
    card: RateCard,
    max_overlap: int,
    now: datetime,
    window: int = DEFAULT_WINDOW,
    scripts: Mapping[str, str] | None = None,
) -> BatchSummary:
    """Decide every clip in ``clip_ids`` that is still complete and undecided, and apply it, each
    by its project's agreement policy (``policies``). Writers' track records over ``window`` clips
    weigh their texts; Chinese final texts are written in ``final_script(language, scripts)``."""
    summary = BatchSummary()
    locked = select(Clip).where(Clip.id.in_(clip_ids), _complete_condition()).order_by(Clip.id)
    if session.get_bind().dialect.name == "postgresql":
        locked = locked.with_for_update(skip_locked=True, of=Clip)
    clips = list(session.scalars(locked))
    summary.skipped = len(set(clip_ids)) - len(clips)
    texts, skips, slots = _evidence(session, [clip.id for clip in clips])
    records = expected_errors(
        session,
        [(s.user_id, clip.language) for clip in clips for s in texts.get(clip.id, [])],
        window=window,
    )
    for clip in clips:
        submissions = texts.get(clip.id, [])
        decision = decide_clip(
            [submission.text for submission in submissions],
            skips.get(clip.id, []),
            language=clip.language,
            speaker_group=clip.speaker_group,
            policy=policies.for_project(clip.project),
            overlap=slots.get(clip.id, clip.overlap or 0),
            max_overlap=max_overlap,
            expected_errors=[records[(s.user_id, clip.language)] for s in submissions],
            script=final_script(clip.language, scripts) if is_chinese(clip.language) else None,
        )
        if not _apply(session, clip, decision, card, now):
            summary.skipped += 1
            continue
        if decision.agreement_error is not None:
            summary.histogram[histogram_bin(decision.agreement_error)] += 1
        if decision.action == ACCEPT:
            summary.accepted += 1
            if decision.method != SINGLE:
                summary.scored_users.update(submission.user_id for submission in submissions)
        elif decision.action == TRANSCRIBE_MORE:
            summary.more_transcriptions += 1
        elif decision.dispute_kind == DisputeKind.BAD_AUDIO:
            summary.unusable += 1
        else:
            summary.disputed += 1
    return summary


def _apply(session: Session, clip: Clip, decision: Decision, card: RateCard, now: datetime) -> bool:
    """Apply one decision; False when another run got there first (nothing is changed)."""
    if decision.action == TRANSCRIBE_MORE:
        add_slot(session, clip.id, now)
        return True
    status = ClipStatus.AGREED if decision.action == ACCEPT else ClipStatus.DISPUTED
    label = (
        f"consensus:{decision.method}"
        if decision.action == ACCEPT
        else f"dispute:{decision.dispute_kind}"
    )
    # The conditional update is the guard against deciding a clip twice.
    moved = session.execute(
        update(Clip)
        .where(Clip.id == clip.id, Clip.status == ClipStatus.PUBLISHED)
        .values(
            status=status,
            final_text=decision.final_text,
            agreement_error=decision.agreement_error,
            decision=label,
            decided_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        return False
    session.refresh(clip)
    if decision.action == ACCEPT and decision.method == SINGLE:
        credit_unscored(session, clip, card, now)
    elif decision.action == ACCEPT:
        settle_against_final(session, clip, decision.final_text, decision.threshold, card, now)
    else:
        if decision.dispute_kind == DisputeKind.BAD_AUDIO:
            # Nobody else should be handed audio two people found unusable; a slot held under
            # lease now is left to finish, and its text reaches the reviewer.
            session.execute(
                update(WorkItem)
                .where(WorkItem.clip_id == clip.id, WorkItem.state == SlotState.OPEN)
                .values(state=SlotState.DONE)
            )
        session.add(
            Dispute(
                clip_id=clip.id,
                kind=decision.dispute_kind,
                state=DisputeState.OPEN,
                agreement_error=decision.agreement_error,
                created_at=now,
            )
        )
    session.flush()
    return True


def score_gold_submissions(
    session: Session,
    *,
    policies: PolicyBook,
    card: RateCard,
    now: datetime,
    project: str | None = None,
    limit: int | None = None,
) -> set[int]:
    """Score every unscored gold transcript against its reference (within its project's
    threshold) and settle its pay; returns the ids of the people scored (their accuracy may need
    checking)."""
    query = (
        select(Submission, GoldClip.reference_text, Clip)
        .join(GoldClip, GoldClip.clip_id == Submission.clip_id)
        .join(Clip, Clip.id == Submission.clip_id)
        .where(Submission.is_gold.is_(True), Submission.error_vs_final.is_(None))
        .order_by(Submission.id)
    )
    if project is not None:
        query = query.where(Clip.project == project)
    if limit is not None:
        query = query.limit(limit)
    scored: set[int] = set()
    for submission, reference, clip in session.execute(query).all():
        policy = policies.for_project(clip.project)
        threshold = policy.threshold_for(clip.language, clip.speaker_group)
        score_gold_submission(session, submission, reference, threshold, card, now)
        scored.add(submission.user_id)
    session.flush()
    return scored
