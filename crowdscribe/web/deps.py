"""Request dependencies: the database, a committed session, who is asking, and CSRF checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from crowdscribe.settings import Settings
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import User
from crowdscribe.web.security import CSRF_FIELD, CSRF_HEADER, csrf_matches, session_user_id
from transcribe.errors import Forbidden, NotAuthenticated
from transcribe.users import Person, authenticate_token, person_from_row

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def get_database(request: Request) -> Database:
    """The app's database (opened once in ``create_app``)."""
    return request.app.state.database


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    return request.app.state.settings


def db_session(request: Request) -> Iterator[Session]:
    """A session committed when the endpoint returns, rolled back if it raises.

    Use through ``DbSession``: its ``scope="function"`` makes FastAPI run the commit before the
    response is sent, so a client never sees a 201 for a row that is not yet in the database.
    """
    with get_database(request).session() as session:
        yield session


DbSession = Annotated[Session, Depends(db_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_database)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def _person_by_id(session: Session, user_id: int) -> Person | None:
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    return person_from_row(user)


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _authenticate(request: Request, session: Session) -> Person:
    token = _bearer_token(request)
    if token is not None:
        person = authenticate_token(session, token)
        if person is None:
            raise NotAuthenticated("That access token is not valid; ask your coordinator.")
        return person
    user_id = session_user_id(request)
    person = _person_by_id(session, user_id) if user_id is not None else None
    if person is None:
        raise NotAuthenticated("Please log in.")
    cookie_write = request.url.path.startswith("/api/") and request.method in UNSAFE_METHODS
    if cookie_write and not csrf_matches(request, request.headers.get(CSRF_HEADER)):
        raise Forbidden("This request is missing its security token; reload the page.")
    return person


def current_person(request: Request) -> Person:
    """Who is asking: a ``Bearer`` token, else the signed session cookie; 401 otherwise.

    A cookie-authenticated write to the JSON API (a page's own script) must also carry the
    session's CSRF token in ``X-CSRF-Token``; bearer requests need none (no ambient credential).
    The lookup uses its own short transaction: a request must not sit on a pooled connection
    while it waits for a worker thread, or a burst of requests starves the pool.
    """
    with get_database(request).session() as session:
        person = _authenticate(request, session)
    request.state.person = person
    return person


CurrentPerson = Annotated[Person, Depends(current_person)]


def require_role(role: str) -> Callable[..., Person]:
    """A dependency that admits only people holding ``role`` (403 for anyone else)."""

    def dependency(person: CurrentPerson) -> Person:
        if role not in person.roles:
            raise Forbidden(f"This page is for people with the {role} role.")
        return person

    return dependency


async def verify_csrf(request: Request) -> None:
    """Refuse a form post whose hidden ``csrf_token`` field (or header) is not this session's."""
    presented = request.headers.get(CSRF_HEADER)
    if presented is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    if not csrf_matches(request, presented):
        raise Forbidden("This form has expired or did not come from this site; reload the page.")


CsrfChecked = Depends(verify_csrf)
