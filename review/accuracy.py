"""Each transcriber's accuracy against final texts, per language, over a rolling window, and the
bar below which they are paused in that language until they retake the exam.

A pause needs evidence, not a raw rate over a few clips: the one-sided 95% lower confidence
bound of the person's mean error (mean − 1.645·s/√n, with the spread s at least
``ERROR_SPREAD_FLOOR``) must be above the bar. A spammer is paused after five clips; someone
with a few unlucky clips among good ones is not. The bounds are shown to the person.

A transcript is scored once its clip has a final text (agreed or resolved by a reviewer) or, for
a gold clip, against the coordinator's reference. The window is the person's last N scored
transcripts in the language, counted from when they (re)qualified, so a passed retake starts
them afresh.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from crowdscribe.storage.models import Clip, GoldClip, Qualification, Submission, User
from crowdscribe.storage.states import QualificationStatus
from review.agreement import Alignment, align
from review.consensus import PRIOR_ERROR
from transcribe.tracked_error import tracked_error_rate
from transcribe.users import pause_language

MIN_CLIPS_FOR_PAUSE = 5
CONFIDENCE_Z = 1.645  # one-sided 95%
# Per-clip error rates of one person spread by about this much at least (short clips, hard
# audio); a smaller sample spread would be luck, and would make the bound overconfident.
ERROR_SPREAD_FLOOR = 0.10
PRIOR_CLIPS = 5  # the crowd's prior counts as this many clips in a person's expected error


def expected_error(errors: Sequence[float], *, prior: float = PRIOR_ERROR) -> float:
    """A person's expected error rate on their next clip: the mean of their scored transcripts
    (final texts and gold), shrunk toward the crowd's prior while they have few."""
    return (sum(errors) + prior * PRIOR_CLIPS) / (len(errors) + PRIOR_CLIPS)


@dataclass(frozen=True)
class ScoredTranscript:
    """One scored transcript: what the person typed, the final text, and the error between."""

    submission_id: int
    clip_id: str
    language: str
    text: str
    final_text: str
    error_rate: float
    is_gold: bool
    submitted_at: datetime


@dataclass(frozen=True)
class LanguageAccuracy:
    """A person's standing in one language: mean error over the window and qualification."""

    user_id: int
    name: str
    language: str
    clips: int
    error_rate: float | None
    status: str | None  # qualified | paused | None (never qualified)
    reason: str | None
    error_low: float | None = None  # 95% confidence bounds of error_rate: the pause evidence
    error_high: float | None = None
    gold_clips: int = 0

    def to_dict(self) -> dict:
        return {
            "user_id": self.user_id,
            "name": self.name,
            "language": self.language,
            "clips": self.clips,
            "error_rate": self.error_rate,
            "error_low": self.error_low,
            "error_high": self.error_high,
            "gold_clips": self.gold_clips,
            "status": self.status,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class WorstClip:
    """A recent scored transcript, aligned against its final text for the person to learn from."""

    scored: ScoredTranscript
    alignment: Alignment


@dataclass(frozen=True)
class Pause:
    user_id: int
    language: str
    error_rate: float
    clips: int
    reason: str


def _qualification(session: Session, user_id: int, language: str) -> Qualification | None:
    return session.scalar(
        select(Qualification).where(
            Qualification.user_id == user_id, Qualification.language == language
        )
    )


def recent_scores(
    session: Session, user_id: int, language: str, *, window: int, since: datetime | None = None
) -> list[ScoredTranscript]:
    """The person's last ``window`` scored transcripts in ``language``, newest first, each with
    the error it counts for (``tracked_error_rate``: an upheld appeal makes it 0)."""
    final = case((Submission.is_gold.is_(True), GoldClip.reference_text), else_=Clip.final_text)
    query = (
        select(Submission, Clip.language, final, tracked_error_rate())
        .join(Clip, Clip.id == Submission.clip_id)
        .outerjoin(GoldClip, GoldClip.clip_id == Submission.clip_id)
        .where(
            Submission.user_id == user_id,
            Submission.error_vs_final.is_not(None),
            Clip.language == language,
        )
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(window)
    )
    if since is not None:
        query = query.where(Submission.created_at >= since)
    return [
        ScoredTranscript(
            submission_id=submission.id,
            clip_id=submission.clip_id,
            language=clip_language,
            text=submission.text,
            final_text=final_text or "",
            error_rate=error_rate,
            is_gold=submission.is_gold,
            submitted_at=submission.created_at,
        )
        for submission, clip_language, final_text, error_rate in session.execute(query).all()
    ]


def _window_start(qualification: Qualification | None) -> datetime | None:
    # A person who (re)qualified starts a fresh window; a paused one keeps the window that
    # paused them, so they (and coordinators) can see why.
    if qualification is not None and qualification.status == QualificationStatus.QUALIFIED:
        return qualification.since
    return None


def track_record(
    session: Session, user_id: int, language: str, *, window: int
) -> ErrorEvidence | None:
    """The person's error evidence over their current window (None with nothing scored)."""
    since = _window_start(_qualification(session, user_id, language))
    scores = recent_scores(session, user_id, language, window=window, since=since)
    return error_evidence(
        [score.error_rate for score in scores], sum(1 for score in scores if score.is_gold)
    )


def expected_errors(
    session: Session, people: Iterable[tuple[int, str]], *, window: int
) -> dict[tuple[int, str], float | None]:
    """Each (person, language)'s expected error over their current window, gold included; None
    while nothing of theirs is scored (the decision rule then knows nothing of them)."""
    found: dict[tuple[int, str], float | None] = {}
    for user_id, language in sorted(set(people)):
        since = _window_start(_qualification(session, user_id, language))
        scores = recent_scores(session, user_id, language, window=window, since=since)
        errors = [score.error_rate for score in scores]
        found[(user_id, language)] = expected_error(errors) if errors else None
    return found


@dataclass(frozen=True)
class ErrorEvidence:
    """What is known of a person's error rate in a language: the mean over ``clips`` scored
    transcripts (``gold_clips`` of them against a reference) and a 95% confidence interval."""

    mean: float
    low: float
    high: float
    clips: int
    gold_clips: int


def error_evidence(errors: Sequence[float], gold_clips: int = 0) -> ErrorEvidence | None:
    """The mean error and its confidence bounds (None with no scored clips)."""
    if not errors:
        return None
    count = len(errors)
    mean = sum(errors) / count
    spread = statistics.stdev(errors) if count > 1 else ERROR_SPREAD_FLOOR
    margin = CONFIDENCE_Z * max(spread, ERROR_SPREAD_FLOOR) / math.sqrt(count)
    return ErrorEvidence(mean, max(mean - margin, 0.0), min(mean + margin, 1.0), count, gold_clips)


def should_pause(evidence: ErrorEvidence | None, bar: float, min_clips: int) -> bool:
    """Pause only when even the low end of the confidence interval is above the bar."""
    return evidence is not None and evidence.clips >= min_clips and evidence.low > bar


def _languages_of(session: Session, user: User) -> list[str]:
    worked = session.scalars(
        select(Clip.language)
        .join(Submission, Submission.clip_id == Clip.id)
        .where(Submission.user_id == user.id, Submission.error_vs_final.is_not(None))
        .distinct()
    )
    qualified = session.scalars(
        select(Qualification.language).where(Qualification.user_id == user.id)
    )
    listed = [language for language in user.languages.split(",") if language]
    return sorted(set(worked) | set(qualified) | set(listed))


def accuracy_by_language(session: Session, user_id: int, *, window: int) -> list[LanguageAccuracy]:
    """The person's standing in every language they work in or are qualified for."""
    user = session.get(User, user_id)
    rows = []
    for language in _languages_of(session, user):
        qualification = _qualification(session, user_id, language)
        evidence = track_record(session, user_id, language, window=window)
        rows.append(
            LanguageAccuracy(
                user_id=user.id,
                name=user.name,
                language=language,
                clips=evidence.clips if evidence else 0,
                error_rate=evidence.mean if evidence else None,
                status=qualification.status if qualification else None,
                reason=qualification.reason if qualification else None,
                error_low=evidence.low if evidence else None,
                error_high=evidence.high if evidence else None,
                gold_clips=evidence.gold_clips if evidence else 0,
            )
        )
    return rows


def accuracy_report(
    session: Session, *, window: int, name: str | None = None
) -> list[LanguageAccuracy]:
    """Everyone's standing (or one person's, by name), for coordinators."""
    query = select(User).order_by(User.name)
    if name is not None:
        query = query.where(User.name == name)
    rows = []
    for user in session.scalars(query):
        rows.extend(accuracy_by_language(session, user.id, window=window))
    return rows


def worst_recent_clips(
    session: Session, user_id: int, language: str, *, window: int, limit: int = 5
) -> list[WorstClip]:
    """The person's worst transcripts among their recent window, aligned against the final."""
    scores = recent_scores(session, user_id, language, window=window)
    worst = sorted(scores, key=lambda score: (-score.error_rate, -score.submission_id))[:limit]
    return [
        WorstClip(scored=score, alignment=align(score.final_text, score.text, language))
        for score in worst
        if score.error_rate > 0
    ]


def pause_reason(language: str, evidence: ErrorEvidence, bar: float) -> str:
    """What a paused person and their coordinator read: the rate, the evidence, the way back."""
    gold = f", {evidence.gold_clips} of them reference clips" if evidence.gold_clips else ""
    return (
        f"Error rate {evidence.mean:.0%} over the last {evidence.clips} checked clips in "
        f"{language}{gold}; with 95% confidence it is at least {evidence.low:.0%}, above the "
        f"{bar:.0%} bar; retake the {language} exam to work in it again."
    )


def enforce_accuracy_bar(
    session: Session,
    user_ids: Iterable[int],
    *,
    bar: float,
    window: int,
    min_clips: int = MIN_CLIPS_FOR_PAUSE,
) -> list[Pause]:
    """Pause each listed person in every qualified language where, over at least ``min_clips``
    clips of their window, their error rate is above ``bar`` with 95% confidence (the module
    rule); returns the pauses made."""
    pauses = []
    for user_id in sorted(set(user_ids)):
        qualified = session.scalars(
            select(Qualification).where(
                Qualification.user_id == user_id,
                Qualification.status == QualificationStatus.QUALIFIED,
            )
        ).all()
        for qualification in qualified:
            evidence = track_record(session, user_id, qualification.language, window=window)
            if evidence is None or not should_pause(evidence, bar, min_clips):
                continue
            reason = pause_reason(qualification.language, evidence, bar)
            pause_language(session, user_id, qualification.language, reason)
            pauses.append(
                Pause(user_id, qualification.language, evidence.mean, evidence.clips, reason)
            )
    session.flush()
    return pauses
