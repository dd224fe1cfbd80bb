"""Where a person stands in each language: qualified, paused, sitting or failed the exam."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdscribe.clock import as_utc
from crowdscribe.storage.models import ExamAttempt, Qualification
from crowdscribe.storage.states import QualificationStatus


class ExamState(StrEnum):
    QUALIFIED = "qualified"
    PAUSED = "paused"
    IN_PROGRESS = "in_progress"
    FAILED = "failed"
    NOT_TAKEN = "not_taken"


@dataclass(frozen=True)
class ExamStanding:
    """Where a person stands in one of their languages, for the home page and ``/me``."""

    language: str
    state: ExamState
    detail: str | None
    retake_at: datetime | None


def exam_standing(
    language: str,
    record: Qualification | None,
    attempt: ExamAttempt | None,
    *,
    cooldown_s: float,
    now: datetime,
) -> ExamStanding:
    """The standing in one language from its qualification record and latest exam attempt:
    a pause or a fail shows when a retake is allowed, unless that time has passed."""
    if record is not None and record.status == QualificationStatus.QUALIFIED:
        return ExamStanding(language, ExamState.QUALIFIED, None, None)
    if attempt is not None and attempt.finished_at is None:
        return ExamStanding(language, ExamState.IN_PROGRESS, None, None)
    retake_at = None
    if attempt is not None and attempt.finished_at is not None:
        retake_at = as_utc(attempt.finished_at) + timedelta(seconds=cooldown_s)
        if retake_at <= now:
            retake_at = None
    if record is not None:
        return ExamStanding(language, ExamState.PAUSED, record.reason, retake_at)
    if attempt is not None:
        detail = f"error rate {attempt.error_rate:.0%}" if attempt.error_rate is not None else None
        return ExamStanding(language, ExamState.FAILED, detail, retake_at)
    return ExamStanding(language, ExamState.NOT_TAKEN, None, None)


def exam_standings(
    session: Session, user_id: int, languages: tuple[str, ...], *, cooldown_s: float, now: datetime
) -> list[ExamStanding]:
    """Per language of the person, in their order: their ``exam_standing``."""
    records = {
        row.language: row
        for row in session.scalars(select(Qualification).where(Qualification.user_id == user_id))
    }
    latest: dict[str, ExamAttempt] = {}
    for attempt in session.scalars(
        select(ExamAttempt).where(ExamAttempt.user_id == user_id).order_by(ExamAttempt.id)
    ):
        latest[attempt.language] = attempt
    return [
        exam_standing(
            language, records.get(language), latest.get(language), cooldown_s=cooldown_s, now=now
        )
        for language in languages
    ]
