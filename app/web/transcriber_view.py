"""What transcriber pages and API both show: a person's standing, and which audio they may hear."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.web.i18n import N_, _
from app.web.local_time import zone_named
from crowdscribe.errors import Forbidden, NotFound
from crowdscribe.settings import Settings
from crowdscribe.storage.models import ExamAttempt, Qualification
from transcribe.ledger import Earnings, earnings_for
from transcribe.queue import held_clip_path
from transcribe.users import Person

NO_SUCH_CLIP = N_("You do not hold a clip with that id; take one from the start page.")


@dataclass(frozen=True)
class ExamStanding:
    """Where a person stands in one of their languages, for the home page and ``/me``."""

    language: str
    state: str  # qualified | paused | in_progress | failed | not_taken
    detail: str | None
    retake_at: datetime | None


@dataclass(frozen=True)
class Standing:
    qualified: list[str]
    exams: list[ExamStanding]
    earnings: Earnings


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def exam_standings(
    session: Session, settings: Settings, person: Person, now: datetime
) -> list[ExamStanding]:
    """Per language: qualified, paused (why), exam in progress, failed (retake time), not taken."""
    records = {
        row.language: row
        for row in session.scalars(select(Qualification).where(Qualification.user_id == person.id))
    }
    attempts: dict[str, ExamAttempt] = {}
    for attempt in session.scalars(
        select(ExamAttempt).where(ExamAttempt.user_id == person.id).order_by(ExamAttempt.id)
    ):
        attempts[attempt.language] = attempt
    standings = []
    for language in person.languages:
        record, attempt = records.get(language), attempts.get(language)
        if record is not None and record.status == "qualified":
            standings.append(ExamStanding(language, "qualified", None, None))
            continue
        if attempt is not None and attempt.finished_at is None:
            standings.append(ExamStanding(language, "in_progress", None, None))
            continue
        retake_at = None
        if attempt is not None and attempt.finished_at is not None:
            retake_at = _aware(attempt.finished_at) + timedelta(seconds=settings.exam_cooldown_s)
            if retake_at <= now:
                retake_at = None
        if record is not None:
            standings.append(ExamStanding(language, "paused", record.reason, retake_at))
        elif attempt is not None:
            detail = (
                f"error rate {attempt.error_rate:.0%}" if attempt.error_rate is not None else None
            )
            standings.append(ExamStanding(language, "failed", detail, retake_at))
        else:
            standings.append(ExamStanding(language, "not_taken", None, None))
    return standings


def person_zone(person: Person | None, settings: Settings) -> tzinfo:
    """The zone a person reads times in: their saved one, else the project's default."""
    return zone_named(person.time_zone if person else None, settings.default_time_zone)


def person_standing(
    session: Session, settings: Settings, person: Person, now: datetime
) -> Standing:
    """Qualified languages, exam standings and earnings of one person ("today" is their day)."""
    standings = exam_standings(session, settings, person, now)
    return Standing(
        qualified=[s.language for s in standings if s.state == "qualified"],
        exams=standings,
        earnings=earnings_for(session, person.id, now, time_zone=person_zone(person, settings)),
    )


def audio_file_for(session: Session, settings: Settings, user_id: int, clip_id: str) -> Path:
    """The file of a clip the person holds now or sits an exam on; one vague 404 for anything else
    so a request cannot learn which clip ids exist."""
    try:
        relative = held_clip_path(session, user_id, clip_id)
    except (Forbidden, NotFound):
        raise NotFound(_(NO_SUCH_CLIP)) from None
    path = (settings.home_dir / relative).resolve()
    if not path.is_file():
        raise NotFound(_("The audio of this clip is missing on the server; tell your coordinator."))
    return path
