"""What transcriber pages and API both show: a person's standing, and which audio they may hear."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from crowdscribe.errors import Forbidden, NotFound
from crowdscribe.settings import Settings
from review.standing import ExamStanding, ExamState, exam_standings
from transcribe.dispatch.holding import held_clip_path
from transcribe.ledger import Earnings, earnings_for
from transcribe.users import Person

NO_SUCH_CLIP = "You do not hold a clip with that id; take one from the start page."


@dataclass(frozen=True)
class Standing:
    qualified: list[str]
    exams: list[ExamStanding]
    earnings: Earnings


def person_standing(
    session: Session, settings: Settings, person: Person, now: datetime
) -> Standing:
    """Qualified languages, exam standings and earnings of one person."""
    standings = exam_standings(
        session, person.id, person.languages, cooldown_s=settings.exam_cooldown_s, now=now
    )
    return Standing(
        qualified=[s.language for s in standings if s.state == ExamState.QUALIFIED],
        exams=standings,
        earnings=earnings_for(session, person.id, now),
    )


def audio_file_for(session: Session, settings: Settings, user_id: int, clip_id: str) -> Path:
    """The file of a clip the person holds now or sits an exam on; one vague 404 for anything else
    so a request cannot learn which clip ids exist."""
    try:
        relative = held_clip_path(session, user_id, clip_id)
    except (Forbidden, NotFound):
        raise NotFound(NO_SUCH_CLIP) from None
    path = (settings.home_dir / relative).resolve()
    if not path.is_file():
        raise NotFound("The audio of this clip is missing on the server; tell your coordinator.")
    return path
