"""The coordinator's overview: progress counts, paused people and the rate card in force."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.web.deps import DbSession, SettingsDep, require_role
from app.web.local_time import start_of_day
from app.web.templating import templates
from app.web.transcriber_view import person_zone
from crowdscribe.clock import utc_now
from review.progress import (
    clip_progress,
    open_dispute_count,
    paused_people,
    recordings_by_status,
    submissions_since,
)
from transcribe.pricing import load_rate_card
from transcribe.users import Person

router = APIRouter(tags=["coordinator pages"], include_in_schema=False)
Coordinator = Annotated[Person, Depends(require_role("coordinator"))]


@router.get("/coordinator")
def overview(
    request: Request, person: Coordinator, session: DbSession, settings: SettingsDep
) -> Response:
    """Where the pipeline stands: recordings, clips, submissions today (the coordinator's day),
    disputes, people, rates."""
    midnight = start_of_day(utc_now(), person_zone(person, settings))
    statuses, clip_rows = clip_progress(session)
    return templates.TemplateResponse(
        request,
        "coordinator.html",
        {
            "recordings": recordings_by_status(session),
            "clip_statuses": statuses,
            "clip_rows": clip_rows,
            "submissions_today": submissions_since(session, midnight),
            "open_disputes": open_dispute_count(session),
            "paused": paused_people(session),
            "card": load_rate_card(settings.rates_file),
        },
    )
