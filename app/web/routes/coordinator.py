"""The coordinator's overview: progress counts, paused people and the rate card in force."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.web.deps import DbSession, SettingsDep, require_role
from app.web.local_time import start_of_day
from app.web.templating import templates
from app.web.transcriber_view import person_zone
from crowdscribe.storage.models import Clip, Dispute, Qualification, Recording, Submission, User
from transcribe.pricing import load_rate_card
from transcribe.users import Person

router = APIRouter(tags=["coordinator pages"], include_in_schema=False)
Coordinator = Annotated[Person, Depends(require_role("coordinator"))]

# Clip statuses in pipeline order, so the table reads left to right.
CLIP_STATUSES = ("collected", "published", "agreed", "disputed", "resolved", "unusable")


def _counts_by(session: Session, column) -> dict[str, int]:
    return dict(session.execute(select(column, func.count()).group_by(column)).all())


def clip_progress(session: Session) -> tuple[list[str], list[dict]]:
    """Clips counted by status for each (language, project), with the statuses that occur."""
    table: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    rows = session.execute(
        select(Clip.language, Clip.project, Clip.status, func.count()).group_by(
            Clip.language, Clip.project, Clip.status
        )
    )
    seen: set[str] = set()
    for language, project, status, count in rows:
        table[(language, project)][status] = count
        seen.add(status)
    statuses = [s for s in CLIP_STATUSES if s in seen] + sorted(seen - set(CLIP_STATUSES))
    return statuses, [
        {"language": language, "project": project, "counts": counts, "total": sum(counts.values())}
        for (language, project), counts in sorted(table.items())
    ]


def paused_people(session: Session) -> list[dict]:
    """Everyone paused in a language, with the reason they were given."""
    rows = session.execute(
        select(User.name, Qualification.language, Qualification.reason, Qualification.since)
        .join(User, User.id == Qualification.user_id)
        .where(Qualification.status == "paused")
        .order_by(User.name, Qualification.language)
    )
    return [
        {"name": name, "language": language, "reason": reason, "since": since}
        for name, language, reason, since in rows
    ]


@router.get("/coordinator")
def overview(
    request: Request, person: Coordinator, session: DbSession, settings: SettingsDep
) -> Response:
    """Where the pipeline stands: recordings, clips, submissions today (the coordinator's day),
    disputes, people, rates."""
    midnight = start_of_day(datetime.now(UTC), person_zone(person, settings))
    statuses, clip_rows = clip_progress(session)
    return templates.TemplateResponse(
        request,
        "coordinator.html",
        {
            "recordings": _counts_by(session, Recording.status),
            "clip_statuses": statuses,
            "clip_rows": clip_rows,
            "submissions_today": session.scalar(
                select(func.count())
                .select_from(Submission)
                .where(Submission.created_at >= midnight)
            ),
            "open_disputes": session.scalar(
                select(func.count()).select_from(Dispute).where(Dispute.state == "open")
            ),
            "paused": paused_people(session),
            "card": load_rate_card(settings.rates_file),
        },
    )
