"""What transcriber pages and API both show: a person's standing, and which audio they may hear."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy.orm import Session

from app.web.i18n import N_, _
from app.web.local_time import zone_named
from crowdscribe.clip_store import clip_location
from crowdscribe.errors import Forbidden, NotFound
from crowdscribe.settings import Settings
from review.standing import ExamStanding, ExamState, exam_standings
from transcribe.dispatch.holding import held_clip_path
from transcribe.ledger import Earnings, earnings_for
from transcribe.users import Person

NO_SUCH_CLIP = N_("You do not hold a clip with that id; take one from the start page.")


@dataclass(frozen=True)
class Standing:
    qualified: list[str]
    exams: list[ExamStanding]
    earnings: Earnings


def person_zone(person: Person | None, settings: Settings) -> tzinfo:
    """The zone a person reads times in: their saved one, else the project's default."""
    return zone_named(person.time_zone if person else None, settings.default_time_zone)


def person_standing(
    session: Session, settings: Settings, person: Person, now: datetime
) -> Standing:
    """Qualified languages, exam standings and earnings of one person ("today" is their day)."""
    standings = exam_standings(
        session, person.id, person.languages, cooldown_s=settings.exam_cooldown_s, now=now
    )
    return Standing(
        qualified=[s.language for s in standings if s.state == ExamState.QUALIFIED],
        exams=standings,
        earnings=earnings_for(session, person.id, now, time_zone=person_zone(person, settings)),
    )


def audio_file_for(session: Session, settings: Settings, user_id: int, clip_id: str) -> str:
    """Where the audio is (a path or URL) of a clip the person holds now or sits an exam on;
    one vague 404 for anything else so a request cannot learn which clip ids exist."""
    try:
        stored = held_clip_path(session, user_id, clip_id)
    except (Forbidden, NotFound):
        raise NotFound(_(NO_SUCH_CLIP)) from None
    return clip_location(settings.home_dir, stored)
