"""Coordinator pages for people (details, edits, new tokens and passwords, deactivation) and for
the stuck queue (clips to relabel and publish again, or drop). Every form carries the CSRF token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.web.deps import CsrfChecked, DbSession, SettingsDep, require_role
from app.web.i18n import _
from app.web.security import flash
from app.web.templating import templates
from crowdscribe.clock import utc_now
from crowdscribe.languages import SPEAKER_GROUPS
from transcribe import people
from transcribe.stuck import drop_stuck, reopen_stuck, republish_stuck, stuck_clips
from transcribe.users import ROLES, Person, list_people

router = APIRouter(tags=["coordinator pages"], include_in_schema=False)
Coordinator = Annotated[Person, Depends(require_role("coordinator"))]


def _back_to(name: str) -> RedirectResponse:
    return RedirectResponse(f"/coordinator/people/{name}", status_code=303)


@router.get("/coordinator/people")
def people_page(request: Request, _person: Coordinator, session: DbSession) -> Response:
    """Everyone, with roles, languages, standing and whether they are active."""
    inactive = people.inactive_names(session)
    rows = [
        {"person": person, "records": records, "active": person.name not in inactive}
        for person, records in list_people(session)
    ]
    return templates.TemplateResponse(request, "people.html", {"rows": rows})


@router.get("/coordinator/people/{name}")
def person_page(request: Request, name: str, _person: Coordinator, session: DbSession) -> Response:
    """One person's details with the forms to change them."""
    return _render_person(request, session, name)


def _render_person(request: Request, session, name: str, new_token: str | None = None) -> Response:
    details = people.person_details(session, name)
    return templates.TemplateResponse(
        request,
        "person.html",
        {"details": details, "roles": ROLES, "new_token": new_token},
    )


@router.post("/coordinator/people/{name}/edit", dependencies=[CsrfChecked])
def edit_person(
    name: str,
    _person: Coordinator,
    session: DbSession,
    request: Request,
    roles: Annotated[list[str], Form()],
    languages: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    time_zone: Annotated[str, Form()] = "",
) -> Response:
    """Save roles, languages, display name and time zone (all checked before any is saved)."""
    people.edit_person(
        session,
        name,
        roles=roles,
        languages=[languages],
        display_name=display_name,
        time_zone=time_zone,
    )
    session.commit()
    flash(request, _("Saved %(name)s.") % {"name": name})
    return _back_to(name)


@router.post("/coordinator/people/{name}/reset-token", dependencies=[CsrfChecked])
def reset_token(request: Request, name: str, _person: Coordinator, session: DbSession) -> Response:
    """A new API token, shown on this page once; the old one stops working at once."""
    token = people.reset_token(session, name)
    session.commit()
    return _render_person(request, session, name, new_token=token)


@router.post("/coordinator/people/{name}/password", dependencies=[CsrfChecked])
def set_password(
    request: Request,
    name: str,
    _person: Coordinator,
    session: DbSession,
    password: Annotated[str, Form()],
) -> Response:
    """Set the person's web sign-in password."""
    people.set_password_for(session, name, password)
    flash(request, _("Password set for %(name)s.") % {"name": name})
    return _back_to(name)


@router.post("/coordinator/people/{name}/deactivate", dependencies=[CsrfChecked])
def deactivate(request: Request, name: str, _person: Coordinator, session: DbSession) -> Response:
    """Stop the person's access now; clips they hold go back to the queue."""
    returned = people.deactivate(session, name, utc_now())
    session.commit()
    flash(
        request,
        _("Deactivated %(name)s; leased clips returned to the queue: %(count)s.")
        % {"name": name, "count": returned},
    )
    return _back_to(name)


@router.post("/coordinator/people/{name}/reactivate", dependencies=[CsrfChecked])
def reactivate(request: Request, name: str, _person: Coordinator, session: DbSession) -> Response:
    """Let the person work again."""
    people.reactivate(session, name)
    session.commit()
    flash(request, _("Reactivated %(name)s.") % {"name": name})
    return _back_to(name)


@router.get("/coordinator/stuck")
def stuck_page(request: Request, _person: Coordinator, session: DbSession) -> Response:
    """Clips no one will finish (skipped as the wrong language or as empty, or with nobody left
    who can take them), waiting for a decision."""
    return templates.TemplateResponse(
        request,
        "stuck.html",
        {"clips": stuck_clips(session, utc_now()), "groups": SPEAKER_GROUPS},
    )


@router.post("/coordinator/stuck/{clip_id}/relabel", dependencies=[CsrfChecked])
def relabel_stuck(
    request: Request,
    clip_id: str,
    _person: Coordinator,
    session: DbSession,
    settings: SettingsDep,
    reason: Annotated[str, Form()],
    language: Annotated[str, Form()] = "",
    speaker_group: Annotated[str, Form()] = "",
) -> Response:
    """Relabel the clip and publish it again."""
    republish_stuck(
        session,
        clip_id,
        language=language or None,
        speaker_group=speaker_group or None,
        reason=reason,
        rates_file=settings.rates_file,
        default_overlap=settings.default_overlap,
        now=utc_now(),
    )
    flash(request, _("%(clip)s relabelled and published again.") % {"clip": clip_id})
    return RedirectResponse("/coordinator/stuck", status_code=303)


@router.post("/coordinator/stuck/{clip_id}/reopen", dependencies=[CsrfChecked])
def reopen(request: Request, clip_id: str, _person: Coordinator, session: DbSession) -> Response:
    """Publish a withdrawn clip again for people qualified since."""
    reopen_stuck(session, clip_id, utc_now())
    flash(request, _("%(clip)s published again.") % {"clip": clip_id})
    return RedirectResponse("/coordinator/stuck", status_code=303)


@router.post("/coordinator/stuck/{clip_id}/drop", dependencies=[CsrfChecked])
def drop(request: Request, clip_id: str, _person: Coordinator, session: DbSession) -> Response:
    """Give up on the clip: unusable, never exported."""
    drop_stuck(session, clip_id, utc_now())
    flash(request, _("%(clip)s dropped.") % {"clip": clip_id})
    return RedirectResponse("/coordinator/stuck", status_code=303)
