"""Standing among peers, pages and JSON: leaderboards per language, the opt-in to appear on
them, and teams (start one, invite by link, join, leave, the leader's view, team ranking)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from app.web.deps import CsrfChecked, CurrentPerson, DbSession, SettingsDep, require_role
from app.web.i18n import _
from app.web.security import flash
from app.web.templating import templates
from app.web.transcriber_view import person_zone
from crowdscribe.clock import utc_now
from crowdscribe.errors import Refusal
from crowdscribe.storage.models import User
from transcribe.limits import MAX_TEXT_CHARS
from transcribe.standing import (
    MAX_NAME_CHARS,
    PERIODS,
    create_team,
    join_team,
    leaderboard,
    leave_team,
    set_leaderboard_choice,
    team_ranking,
    team_view,
)
from transcribe.users import Person

router = APIRouter(tags=["standing and teams"])
Transcriber = Annotated[Person, Depends(require_role("transcriber"))]
Period = Annotated[str, Query(pattern="^(week|month)$")]


class LeaderboardChoice(BaseModel):
    show: bool
    display_name: str | None = Field(default=None, max_length=MAX_NAME_CHARS)


class TeamRequest(BaseModel):
    name: str = Field(max_length=MAX_NAME_CHARS)


class JoinRequest(BaseModel):
    invite_code: str = Field(max_length=32)


@router.get("/api/v1/leaderboard")
def get_leaderboard(
    person: CurrentPerson,
    session: DbSession,
    settings: SettingsDep,
    language: Annotated[str, Query(max_length=40)],
    period: Period = "week",
) -> dict:
    """Opted-in people ranked in a language this week or month (from midnight on my clock);
    ``you`` is my own place."""
    board = leaderboard(
        session,
        language=language,
        period=period,
        now=utc_now(),
        viewer_id=person.id,
        zone=person_zone(person, settings),
    )
    return board.to_dict()


@router.put("/api/v1/me/leaderboard")
def choose_leaderboard(
    payload: LeaderboardChoice, person: CurrentPerson, session: DbSession
) -> dict:
    """Appear on leaderboards (under a display name) or not."""
    set_leaderboard_choice(session, person.id, show=payload.show, display_name=payload.display_name)
    return {"show": payload.show, "display_name": payload.display_name}


@router.get("/api/v1/teams/mine")
def my_team(
    person: CurrentPerson, session: DbSession, settings: SettingsDep, period: Period = "week"
) -> dict | None:
    """My team; its leader also gets the invite code and each member's figures."""
    view = team_view(
        session, person.id, period=period, now=utc_now(), zone=person_zone(person, settings)
    )
    return None if view is None else view.to_dict()


@router.post("/api/v1/teams", status_code=201)
def start_team(payload: TeamRequest, person: Transcriber, session: DbSession) -> dict:
    """Start a team that I lead."""
    team = create_team(session, person.id, payload.name, utc_now())
    return {"id": team.id, "name": team.name, "invite_code": team.invite_code}


@router.post("/api/v1/teams/join")
def join(payload: JoinRequest, person: Transcriber, session: DbSession) -> dict:
    """Join a team by its invite code (its leader then sees my work and earnings)."""
    team = join_team(session, person.id, payload.invite_code, utc_now())
    return {"id": team.id, "name": team.name}


@router.get("/api/v1/teams/ranking")
def get_team_ranking(
    person: CurrentPerson,
    session: DbSession,
    settings: SettingsDep,
    period: Period = "week",
    language: str | None = None,
) -> list[dict]:
    """Teams ranked by clips transcribed and accuracy (no money)."""
    rows = team_ranking(
        session,
        period=period,
        now=utc_now(),
        language=language,
        zone=person_zone(person, settings),
    )
    return [row.to_dict() for row in rows]


@router.get("/standing", include_in_schema=False)
def standing_page(
    request: Request,
    person: Transcriber,
    session: DbSession,
    settings: SettingsDep,
    language: str | None = None,
    period: Period = "week",
) -> Response:
    """Leaderboard of one of my languages, my opt-in, my team and the team ranking."""
    now, zone = utc_now(), person_zone(person, settings)
    languages = list(person.languages)
    language = language if language in languages else (languages[0] if languages else None)
    board = None
    if language is not None:
        board = leaderboard(
            session, language=language, period=period, now=now, viewer_id=person.id, zone=zone
        )
    me = session.get(User, person.id)
    return templates.TemplateResponse(
        request,
        "standing.html",
        {
            "board": board,
            "languages": languages,
            "language": language,
            "period": period,
            "periods": PERIODS,
            "me": me,
            "team": team_view(session, person.id, period=period, now=now, zone=zone),
            "teams": team_ranking(session, period=period, now=now, language=language, zone=zone),
        },
    )


def _back(request: Request, message: str | None, refusal: Refusal | None = None) -> Response:
    flash(request, refusal.message if refusal else message)
    return RedirectResponse("/standing", status_code=303)


@router.post("/standing/choice", dependencies=[CsrfChecked], include_in_schema=False)
def choice_page(
    request: Request,
    person: Transcriber,
    session: DbSession,
    show: Annotated[str, Form(max_length=16)] = "",
    display_name: Annotated[str, Form(max_length=MAX_TEXT_CHARS)] = "",
) -> Response:
    """Save the leaderboard opt-in from the page."""
    try:
        set_leaderboard_choice(session, person.id, show=show == "on", display_name=display_name)
    except Refusal as refusal:
        session.rollback()
        return _back(request, None, refusal)
    return _back(request, _("Saved."))


@router.post("/teams", dependencies=[CsrfChecked], include_in_schema=False)
def start_team_page(
    request: Request,
    person: Transcriber,
    session: DbSession,
    name: Annotated[str, Form(max_length=MAX_TEXT_CHARS)] = "",
) -> Response:
    """Start a team from the page."""
    try:
        create_team(session, person.id, name, utc_now())
    except Refusal as refusal:
        session.rollback()
        return _back(request, None, refusal)
    return _back(request, _("Team started. Send members the invite link below."))


@router.get("/teams/join/{invite_code}", include_in_schema=False)
def invite_page(request: Request, invite_code: str, _person: Transcriber) -> Response:
    """Where an invite link lands: what joining means, and the button to join."""
    return templates.TemplateResponse(request, "team_join.html", {"invite_code": invite_code})


@router.post("/teams/join", dependencies=[CsrfChecked], include_in_schema=False)
def join_page(
    request: Request,
    person: Transcriber,
    session: DbSession,
    invite_code: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Join a team from an invite link or a typed code."""
    try:
        join_team(session, person.id, invite_code, utc_now())
    except Refusal as refusal:
        session.rollback()
        return _back(request, None, refusal)
    return _back(request, _("You joined the team."))


@router.post("/teams/leave", dependencies=[CsrfChecked], include_in_schema=False)
def leave_page(request: Request, person: Transcriber, session: DbSession) -> Response:
    """Leave one's team."""
    try:
        leave_team(session, person.id)
    except Refusal as refusal:
        session.rollback()
        return _back(request, None, refusal)
    return _back(request, _("You left the team."))
