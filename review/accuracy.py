"""Each transcriber's accuracy against final texts, per language, over a rolling window, and the
bar below which they are paused in that language until they retake the exam.

A transcript is scored once its clip has a final text (agreed or resolved by a reviewer) or, for
a gold clip, against the coordinator's reference. The window is the person's last N scored
transcripts in the language, counted from when they (re)qualified, so a passed retake starts
them afresh.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from crowdscribe.storage.models import (
    Clip,
    GoldClip,
    Qualification,
    QualificationStatus,
    Submission,
    User,
)
from review.agreement import Alignment, align
from transcribe.users import pause_language

MIN_CLIPS_FOR_PAUSE = 10


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

    def to_dict(self) -> dict:
        return {
            "user_id": self.user_id,
            "name": self.name,
            "language": self.language,
            "clips": self.clips,
            "error_rate": self.error_rate,
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
    """The person's last ``window`` scored transcripts in ``language``, newest first."""
    final = case((Submission.is_gold.is_(True), GoldClip.reference_text), else_=Clip.final_text)
    query = (
        select(Submission, Clip.language, final)
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
            error_rate=submission.error_vs_final,
            is_gold=submission.is_gold,
            submitted_at=submission.created_at,
        )
        for submission, clip_language, final_text in session.execute(query).all()
    ]


def _window_start(qualification: Qualification | None) -> datetime | None:
    # A person who (re)qualified starts a fresh window; a paused one keeps the window that
    # paused them, so they (and coordinators) can see why.
    if qualification is not None and qualification.status == QualificationStatus.QUALIFIED:
        return qualification.since
    return None


def track_record(
    session: Session, user_id: int, language: str, *, window: int
) -> tuple[float | None, int]:
    """(mean error rate, number of scored clips) over the person's current window."""
    since = _window_start(_qualification(session, user_id, language))
    scores = recent_scores(session, user_id, language, window=window, since=since)
    if not scores:
        return None, 0
    return sum(score.error_rate for score in scores) / len(scores), len(scores)


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
        rate, clips = track_record(session, user_id, language, window=window)
        rows.append(
            LanguageAccuracy(
                user_id=user.id,
                name=user.name,
                language=language,
                clips=clips,
                error_rate=rate,
                status=qualification.status if qualification else None,
                reason=qualification.reason if qualification else None,
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


def pause_reason(language: str, rate: float, clips: int, bar: float) -> str:
    """What a paused person and their coordinator read."""
    return (
        f"Error rate {rate:.0%} over the last {clips} checked clips in {language} is above "
        f"the {bar:.0%} bar; retake the {language} exam to work in it again."
    )


def enforce_accuracy_bar(
    session: Session,
    user_ids: Iterable[int],
    *,
    bar: float,
    window: int,
    min_clips: int = MIN_CLIPS_FOR_PAUSE,
) -> list[Pause]:
    """Pause each listed person in every qualified language where their windowed error rate is
    above ``bar`` over at least ``min_clips`` clips; returns the pauses made."""
    pauses = []
    for user_id in sorted(set(user_ids)):
        qualified = session.scalars(
            select(Qualification).where(
                Qualification.user_id == user_id,
                Qualification.status == QualificationStatus.QUALIFIED,
            )
        ).all()
        for qualification in qualified:
            rate, clips = track_record(session, user_id, qualification.language, window=window)
            if rate is None or clips < min_clips or rate <= bar:
                continue
            reason = pause_reason(qualification.language, rate, clips, bar)
            pause_language(session, user_id, qualification.language, reason)
            pauses.append(Pause(user_id, qualification.language, rate, clips, reason))
    session.flush()
    return pauses
