"""Answers for requests that went wrong in ways a route cannot answer for itself: input that
fails validation, and a database that cannot be reached. Each handler builds its answer from
text it has made safe, so an answer can always be encoded (a lone surrogate or an infinity in
the input once crashed the default handlers into 500s)."""

from __future__ import annotations

import math

import psycopg
import psycopg_pool
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, OperationalError

from app.web.i18n import _
from app.web.templating import templates
from app.web.validation_messages import problem_message

RETRY_AFTER_S = 5
MAX_PROBLEMS = 20
MAX_TEXT = 200


def printable(value: object) -> str | int | float | bool | None:
    """``value`` as something JSON can always encode: text without lone surrogates, cut short;
    finite numbers kept, others as text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    text = value if isinstance(value, str) else repr(value)
    return text[:MAX_TEXT].encode("utf-8", "backslashreplace").decode("utf-8")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def handle_invalid_request(request: Request, error: RequestValidationError) -> Response:
    """422 naming each bad field and why, in the reader's language, never echoing the input."""
    problems = [
        {
            "loc": [printable(part) for part in problem.get("loc", ())],
            "msg": problem_message(problem, printable),
            "type": printable(problem.get("type", "")),
        }
        for problem in error.errors()[:MAX_PROBLEMS]
    ]
    if _is_api(request):
        return JSONResponse({"detail": problems}, status_code=422)
    fields = _(", ").join(str(problem["loc"][-1]) for problem in problems if problem["loc"])
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "message": _("This request had values we could not take (%(fields)s).")
            % {"fields": fields},
            "problems": [
                (str(problem["loc"][-1]) if problem["loc"] else "", problem["msg"])
                for problem in problems
            ],
            "status": 422,
        },
        status_code=422,
    )


def is_unavailable(error: Exception) -> bool:
    """Whether ``error`` means the database could not be reached (or dropped us), not a bug."""
    if isinstance(error, psycopg_pool.PoolTimeout | psycopg.OperationalError):
        return True
    if isinstance(error, OperationalError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


async def handle_database_error(request: Request, error: Exception) -> Response:
    """503 with ``Retry-After`` while the database is away; anything else stays a 500."""
    if not is_unavailable(error):
        raise error
    message = _("The service is briefly unavailable; please try again in a few seconds.")
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if _is_api(request):
        return JSONResponse({"detail": message}, status_code=503, headers=headers)
    return templates.TemplateResponse(
        request, "error.html", {"message": message, "status": 503}, status_code=503, headers=headers
    )
