"""Request dependencies: the database, a committed session, who is asking, and CSRF checks."""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.web.security import CSRF_FIELD, CSRF_HEADER, csrf_matches, session_user_id
from crowdscribe.errors import Forbidden, NotAuthenticated
from crowdscribe.settings import Settings
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import User
from transcribe.transactions import WouldWait, without_waiting
from transcribe.users import Person, authenticate_token, person_from_row, token_digest

T = TypeVar("T")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# How long a checked API token is trusted without asking the database again. A deactivation or
# a replaced token touches Settings.people_changed_file, which ends that trust at once.
TOKEN_TRUST_S = 30.0
_TOKEN_CACHE_LIMIT = 10_000


class RecentTokens:
    """API tokens checked in the last ``TOKEN_TRUST_S`` seconds, by SHA-256 digest (never the
    token itself): a transcriber's every request would otherwise cost a database lookup."""

    def __init__(self, trust_s: float = TOKEN_TRUST_S, changed_file: Path | None = None) -> None:
        self.trust_s = trust_s
        self.changed_file = changed_file
        self._changed_at = self._change_mark()
        self._people: dict[str, tuple[float, Person]] = {}
        self._guard = threading.Lock()

    def _change_mark(self) -> int:
        try:
            return os.stat(self.changed_file).st_mtime_ns if self.changed_file else 0
        except FileNotFoundError:
            return 0

    def get(self, digest: str) -> Person | None:
        """The person this digest was found to belong to, if that was recent enough and no
        access has changed since (one stat of the marker file, about a microsecond)."""
        mark = self._change_mark()
        if mark != self._changed_at:
            with self._guard:
                self._people.clear()
                self._changed_at = mark
            return None
        found = self._people.get(digest)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, digest: str, person: Person) -> None:
        """Remember a successful lookup (failures are not remembered: a new token works at once)."""
        with self._guard:
            if len(self._people) >= _TOKEN_CACHE_LIMIT:
                self._people.clear()
            self._people[digest] = (time.monotonic() + self.trust_s, person)


_recent_tokens: weakref.WeakKeyDictionary[Database, RecentTokens] = weakref.WeakKeyDictionary()


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
    submits take ``transcribe.async_queue`` instead; only an app whose lifespan never ran, so
    has no async pool, sends them here, where they block for their round trips.)
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


def _person_for_token(database: Database, token: str, changed_file: Path | None) -> Person:
    recent = _recent_tokens.get(database)
    if recent is None:
        recent = _recent_tokens.setdefault(database, RecentTokens(changed_file=changed_file))
    digest = token_digest(token)
    person = recent.get(digest)
    if person is None:
        with database.session() as session:
            person = authenticate_token(session, token)
        if person is None:
            raise NotAuthenticated("That access token is not valid; ask your coordinator.")
        recent.put(digest, person)
    return person


def _person_for_cookie(request: Request, database: Database) -> Person:
    user_id = session_user_id(request)
    if user_id is None:
        raise NotAuthenticated("Please log in.")
    with database.session() as session:
        person = _person_by_id(session, user_id)
    if person is None:
        raise NotAuthenticated("Please log in.")
    cookie_write = request.url.path.startswith("/api/") and request.method in UNSAFE_METHODS
    if cookie_write and not csrf_matches(request, request.headers.get(CSRF_HEADER)):
        raise Forbidden("This request is missing its security token; reload the page.")
    return person


async def current_person(request: Request) -> Person:
    """Who is asking: a ``Bearer`` token, else the signed session cookie; 401 otherwise.

    A cookie-authenticated write to the JSON API (a page's own script) must also carry the
    session's CSRF token in ``X-CSRF-Token``; bearer requests need none (no ambient credential).
    A token checked in the last ``TOKEN_TRUST_S`` seconds is answered from memory on the event
    loop; other lookups run in a worker thread with their own short transaction, so a request
    never sits on a pooled connection while it waits for a thread.
    """
    database: Database = request.app.state.database
    token = _bearer_token(request)
    if token is not None:
        recent = _recent_tokens.get(database)
        person = recent.get(token_digest(token)) if recent is not None else None
        if person is None:
            changed_file = request.app.state.settings.people_changed_file
            person = await run_in_threadpool(_person_for_token, database, token, changed_file)
    else:
        person = await run_in_threadpool(_person_for_cookie, request, database)
    request.state.person = person
    return person


CurrentPerson = Annotated[Person, Depends(current_person)]


def require_role(role: str) -> Callable[..., Person]:
    """A dependency that admits only people holding ``role`` (403 for anyone else)."""

    async def dependency(person: CurrentPerson) -> Person:
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
