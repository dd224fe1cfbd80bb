"""Request dependencies: the database, a committed session, who is asking, and CSRF checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.web.i18n import LOCALE_COOKIE, N_, _, choose_locale, negotiate, use_locale
from app.web.labels import label
from app.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    csrf_matches,
    session_user_id,
    session_version_of,
)
from crowdscribe.errors import Forbidden, NotAuthenticated
from crowdscribe.settings import Settings
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import User
from transcribe.dispatch.async_runner import authenticate_token_async
from transcribe.dispatch.sequences import TokenHolder
from transcribe.dispatch.writes import WouldWait, without_waiting
from transcribe.users import Person, authenticate_token, person_from_row, token_digest

T = TypeVar("T")
TOKEN_REFUSED = N_("That access token is not valid; ask your coordinator.")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def get_database(request: Request) -> Database:
    """The app's database (opened once in ``create_app``).

    Async on purpose, like every dependency that does no I/O: FastAPI runs a plain ``def``
    dependency in a worker thread, a hand-off that cost more than the request's own work."""
    return request.app.state.database


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    return request.app.state.settings


async def run_database_work(database: Database, work: Callable[[], T]) -> T:
    """Run ``work``, a short unit of database work that commits itself, for a request.

    It runs right here on the event loop: a claim or a submit is a fraction of a millisecond of
    SQLite, and handing it to a worker thread and back cost more than that (twice the
    throughput here). A page's session in a worker thread may hold SQLite's write lock until the
    loop runs its commit, so ``work`` gives way (``WouldWait``, before any write) and runs in a
    worker thread instead; it must therefore be safe to start again. (On PostgreSQL claims and
    submits take ``transcribe.dispatch.async_runner`` instead; only an app whose lifespan never
    ran, so has no async pool, sends them here, where they block for their round trips.)
    """
    try:
        with without_waiting():
            return work()
    except WouldWait:
        return await run_in_threadpool(work)


def db_session(request: Request) -> Iterator[Session]:
    """A session committed when the endpoint returns, rolled back if it raises.

    Use through ``DbSession``: its ``scope="function"`` makes FastAPI run the commit before the
    response is sent, so a client never sees a 201 for a row that is not yet in the database.
    """
    with request.app.state.database.session() as session:
        yield session


DbSession = Annotated[Session, Depends(db_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_database)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def _person_by_id(session: Session, user_id: int, version: int | None) -> Person | None:
    user = session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return person_from_row(user)


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if the request has one."""
    header = request.headers.get("authorization", "")
    scheme, _space, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _person_for_token(database: Database, token: str) -> Person:
    with database.session() as session:
        person = authenticate_token(session, token)
    if person is None:
        raise NotAuthenticated(_(TOKEN_REFUSED))
    return person


def _person_for_cookie(request: Request, database: Database) -> Person:
    user_id = session_user_id(request)
    if user_id is None:
        raise NotAuthenticated(_("Please log in."))
    with database.session() as session:
        person = _person_by_id(session, user_id, session_version_of(request))
    if person is None:
        raise NotAuthenticated(_("Please log in."))
    cookie_write = request.url.path.startswith("/api/") and request.method in UNSAFE_METHODS
    if cookie_write and not csrf_matches(request, request.headers.get(CSRF_HEADER)):
        raise Forbidden(_("This request is missing its security token; reload the page."))
    return person


async def current_person(request: Request) -> Person:
    """Who is asking: a ``Bearer`` token, else the signed session cookie; 401 otherwise.

    A cookie-authenticated write to the JSON API (a page's own script) must also carry the
    session's CSRF token in ``X-CSRF-Token``; bearer requests need none (no ambient credential).
    Every request asks the database (an indexed lookup), so a token replaced, a person
    deactivated or a session ended is refused on the very next request. SQLite answers on the
    event loop in microseconds; PostgreSQL's goes out on the async pool, as claims do (a worker
    thread's hand-off and an ORM session cost more than the lookup).
    """
    known = getattr(request.state, "person", None)
    if known is not None:  # asked already in this request (a route naming two roles' checks)
        return known
    database: Database = request.app.state.database
    pool = request.app.state.async_pool
    token = bearer_token(request)
    if token is not None and pool is not None:
        person = await authenticate_token_async(pool, token)
        if person is None:
            raise NotAuthenticated(_(TOKEN_REFUSED))
    elif token is not None and database.dialect == "sqlite":
        person = _person_for_token(database, token)
    elif token is not None:
        person = await run_in_threadpool(_person_for_token, database, token)
    else:
        person = await run_in_threadpool(_person_for_cookie, request, database)
    _admit(request, person)
    return person


def _admit(request: Request, person: Person) -> None:
    request.state.person = person
    _serve_in_their_locale(request, person)


def _serve_in_their_locale(request: Request, person: Person) -> None:
    # The API answers in the language its client asks for; pages in the one the person chose.
    accept_language = request.headers.get("accept-language")
    asked = request.url.path.startswith("/api/") and negotiate(accept_language) is not None
    use_locale(
        choose_locale(
            saved=None if asked else person.locale,
            cookie=None if asked else request.cookies.get(LOCALE_COOKIE),
            accept_language=accept_language,
            languages=person.languages,
            language_locales=request.app.state.settings.language_locales,
        )
    )


CurrentPerson = Annotated[Person, Depends(current_person)]


def require_role(role: str) -> Callable[..., Person]:
    """A dependency that admits only people holding ``role`` (403 for anyone else).

    It asks ``current_person`` itself rather than through ``Depends``: each level of nested
    dependencies costs FastAPI about 30 µs a request on this machine."""

    async def dependency(request: Request) -> Person:
        person = await current_person(request)
        _check_role(person, role)
        return person

    return dependency


def _check_role(person: Person, role: str) -> None:
    if role not in person.roles:
        raise Forbidden(
            _("This page is for people with the %(role)s role.") % {"role": label(role, "role")}
        )


def token_holder(request: Request, token: str, role: str | None = None) -> TokenHolder:
    """Whoever holds ``token``, for a claim or submit that checks it in its own statement:
    refused and admitted as ``current_person`` (and ``require_role(role)``) would."""

    def admit(person: Person | None) -> None:
        if person is None:
            raise NotAuthenticated(_(TOKEN_REFUSED))
        _admit(request, person)
        if role is not None:
            _check_role(person, role)

    return TokenHolder(token_digest(token), role, admit)


async def verify_csrf(request: Request) -> None:
    """Refuse a form post whose hidden ``csrf_token`` field (or header) is not this session's."""
    presented = request.headers.get(CSRF_HEADER)
    if presented is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    if not csrf_matches(request, presented):
        raise Forbidden(_("This form has expired or did not come from this site; reload the page."))


CsrfChecked = Depends(verify_csrf)
