"""Logging in (by access token or by name and password) and out of the web pages."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.web.deps import CsrfChecked, DbSession
from app.web.security import log_in, log_out, session_user_id
from app.web.templating import templates
from crowdscribe.clock import utc_now
from crowdscribe.storage.models import User
from transcribe.access import end_sessions, forget_failures, record_failure, sign_in_throttle
from transcribe.users import Person, authenticate_password, authenticate_token

router = APIRouter(tags=["auth"])


def _safe_next(next_url: str | None) -> str | None:
    # Only paths on this site: "//host" or "http://..." would make login an open redirect.
    if next_url and next_url.startswith("/") and not next_url.startswith("//"):
        return next_url
    return None


def _landing_page(person: Person) -> str:
    if "transcriber" in person.roles:
        return "/"
    if "reviewer" in person.roles:
        return "/review"
    return "/coordinator"


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str | None = None) -> Response:
    """The login form: a token, or a name and password."""
    return templates.TemplateResponse(request, "login.html", {"next_url": _safe_next(next) or ""})


@router.post("/login", include_in_schema=False, dependencies=[CsrfChecked])
def login(
    request: Request,
    session: DbSession,
    token: Annotated[str, Form(max_length=200)] = "",
    name: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Check the credentials and start a signed session; the same vague error for any failure,
    and a pause after repeated failures for the name or the address."""
    now = utc_now()
    address = request.client.host if request.client else "unknown"
    tried_name = "" if token.strip() else name.strip()
    throttle = sign_in_throttle(session, tried_name, address, now)
    if throttle.refused:
        wait_min = math.ceil(throttle.retry_after_s / 60)
        return _login_again(
            request,
            f"Too many failed sign-ins; try again in {wait_min} minutes.",
            name,
            next,
            status_code=429,
            headers={"Retry-After": str(math.ceil(throttle.retry_after_s))},
        )
    person = None
    if token.strip():
        person = authenticate_token(session, token.strip())
    elif name.strip() and password:
        person = authenticate_password(session, name.strip(), password)
    if person is None:
        record_failure(session, tried_name, address, now)
        message = "Those details did not match; check them and try again."
        return _login_again(request, message, name, next, status_code=401)
    forget_failures(session, person.name)
    log_in(request, person.id, session.get(User, person.id).session_version)
    return RedirectResponse(_safe_next(next) or _landing_page(person), status_code=303)


def _login_again(
    request: Request,
    error: str,
    name: str,
    next_url: str,
    *,
    status_code: int,
    headers: dict[str, str] | None = None,
) -> Response:
    context = {"error": error, "name": name, "next_url": _safe_next(next_url) or ""}
    return templates.TemplateResponse(
        request, "login.html", context, status_code=status_code, headers=headers
    )


@router.post("/logout", include_in_schema=False, dependencies=[CsrfChecked])
def logout(request: Request, session: DbSession) -> Response:
    """End the session on this browser and on every other one this person signed in on."""
    user_id = session_user_id(request)
    if user_id is not None:
        end_sessions(session, user_id)
    log_out(request)
    return RedirectResponse("/login", status_code=303)
