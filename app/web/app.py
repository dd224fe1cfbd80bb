"""The FastAPI application: pages for transcribers, coordinators and reviewers, and a JSON API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

import psycopg
import psycopg_pool
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from starlette.middleware.sessions import SessionMiddleware

from app.web.api_docs import add_api_docs
from app.web.domain_messages import convention_summary, translate_message, translate_problems
from app.web.edge import GuardInput
from app.web.failures import handle_database_error, handle_invalid_request
from app.web.i18n import LocaleFromBrowser
from app.web.recycling import RecycleConnections
from app.web.routes import (
    appeals,
    auth,
    coordinator,
    coordinator_people,
    exam,
    preferences,
    review,
    standing,
    transcriber,
    transcriber_api,
)
from app.web.security import SESSION_COOKIE, SESSION_MAX_AGE_S
from app.web.templating import STATIC_DIR, templates
from crowdscribe.errors import ConventionError, NotAuthenticated, Refusal
from crowdscribe.settings import Settings, get_settings
from crowdscribe.storage.db import Database, open_async_pool, open_database
from transcribe.limits import MAX_PROBLEMS_SHOWN


async def handle_refusal(request: Request, refusal: Refusal) -> Response:
    """The one place refusals become responses: JSON under /api/, a page (or login) elsewhere."""
    conventions = isinstance(refusal, ConventionError) and refusal.problems
    message = (
        convention_summary(refusal.problems, refusal.problem_count)
        if conventions
        else translate_message(refusal.message)
    )
    if request.url.path.startswith("/api/"):
        body: dict = {"detail": message}
        if isinstance(refusal, ConventionError):
            body["problems"] = translate_problems(refusal.problems[:MAX_PROBLEMS_SHOWN])
            body["problem_count"] = refusal.problem_count
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(refusal, NotAuthenticated) else None
        return JSONResponse(body, status_code=refusal.http_status, headers=headers)
    if isinstance(refusal, NotAuthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    return templates.TemplateResponse(
        request,
        "error.html",
        {"message": message, "status": refusal.http_status},
        status_code=refusal.http_status,
    )


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the app; opens (and migrates) the configured database unless one is given."""
    settings = settings or get_settings()
    owns_database = database is None
    database = database or open_database(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Opened here, in the event loop that serves the requests: an async pool belongs to one.
        if database.dialect == "postgresql":
            app.state.async_pool = await open_async_pool(database.url)
        try:
            yield
        finally:
            if app.state.async_pool is not None:
                await app.state.async_pool.close()
                app.state.async_pool = None
            if owns_database:
                database.dispose()

    app = FastAPI(
        title="crowdscribe",
        summary="Crowdsourced verbatim speech transcription",
        lifespan=lifespan,
        docs_url=None,  # add_api_docs serves it from local assets
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.async_pool = None  # PostgreSQL's, while the app runs (see lifespan)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_S,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(RecycleConnections)
    app.add_middleware(GuardInput)
    # Outermost, so that even the edge's refusals are in the reader's language.
    app.add_middleware(LocaleFromBrowser)
    app.add_exception_handler(Refusal, handle_refusal)
    app.add_exception_handler(RequestValidationError, handle_invalid_request)
    for error in (DBAPIError, psycopg.Error, psycopg_pool.PoolTimeout):
        app.add_exception_handler(error, handle_database_error)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    add_api_docs(app)
    # The JSON API first: routes are matched in order, and its claims and submits are most of
    # the requests.
    for module in (
        transcriber_api,
        auth,
        transcriber,
        exam,
        coordinator,
        coordinator_people,
        review,
        preferences,
        appeals,
        standing,
    ):
        app.include_router(module.router)
    return app
