"""Routes that answer their usual request straight from the ``Request``.

FastAPI reads, solves and validates a route's dependencies, parameters and body for every
request, a large part of what a claim or a submit costs the server. A direct route first runs a
handler of its own that answers the common request (a bearer token, a plain JSON body) or
returns None; then the declared endpoint runs as on any route, so every other request (a
cookie, odd input, an error to report) is answered exactly as before. The OpenAPI schema is the
declared endpoint's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel

Direct = Callable[[Request], Awaitable[Response | None]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def direct_post(
    router: APIRouter, path: str, direct: Direct, **options: Any
) -> Callable[[Endpoint], Endpoint]:
    """``@router.post(path, **options)`` for an endpoint that ``direct`` answers when it can."""

    class DirectRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            declared = super().get_route_handler()

            async def handle(request: Request) -> Response:
                response = await direct(request)
                return await declared(request) if response is None else response

            return handle

    def register(endpoint: Endpoint) -> Endpoint:
        router.add_api_route(
            path, endpoint, methods=["POST"], route_class_override=DirectRoute, **options
        )
        return endpoint

    return register


def is_json(request: Request) -> bool:
    """Whether the body is declared plain JSON (FastAPI's other JSON types take its own path)."""
    content_type = request.headers.get("content-type", "")
    return content_type.partition(";")[0].strip().lower() == "application/json"


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    """``model`` written as FastAPI writes a route's response model (pydantic's own JSON)."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")
