"""Logging in (by access token or by name and password) and out of the web pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.web.deps import CsrfChecked, DbSession
from app.web.i18n import _
from app.web.security import log_in, log_out
from app.web.templating import templates
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
    token: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the credentials and start a signed session; the same vague error for any failure."""
    person = None
    if token.strip():
        person = authenticate_token(session, token.strip())
    elif name.strip() and password:
        person = authenticate_password(session, name.strip(), password)
    if person is None:
        return templates.TemplateResponse(
            request,
            "login.html",
            {
                "error": _("Those details did not match; check them and try again."),
                "name": name,
                "next_url": _safe_next(next) or "",
            },
            status_code=401,
        )
    log_in(request, person.id)
    return RedirectResponse(_safe_next(next) or _landing_page(person), status_code=303)


@router.post("/logout", include_in_schema=False, dependencies=[CsrfChecked])
def logout(request: Request) -> Response:
    """End the session on this browser."""
    log_out(request)
    return RedirectResponse("/login", status_code=303)
