"""What the server refuses before any route runs: oversized bodies and text no database or
JSON encoder can hold (NUL, lone surrogates, other control characters).

A body is read in full only up to its route's limit (``body_limit_bytes``): a 50 MB post is
answered 413 after its first chunks, whatever its ``Content-Length`` says. Text is checked on
the raw bytes, so a refusal costs one pass over at most that many bytes and no decoding.
"""

from __future__ import annotations

import json
import re
from typing import Annotated
from urllib.parse import unquote_to_bytes

from fastapi import Path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.i18n import N_, _

# A transcript of the longest clip is a few kilobytes; forms and JSON calls are smaller still.
DEFAULT_BODY_LIMIT_BYTES = 64 * 1024
# Control characters other than tab, newline and carriage return; NUL first among them.
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A JSON \u escape of a control character or of a surrogate, with what may pair it.
_JSON_ESCAPE = re.compile(
    rb"(?<!\\)(?:\\\\)*\\u(?:00[01][0-9a-fA-F]|007[fF]"
    rb"|(?P<high>[dD][89abAB][0-9a-fA-F]{2})(?P<low>\\u[dD][c-fC-F][0-9a-fA-F]{2})?"
    rb"|[dD][c-fC-F][0-9a-fA-F]{2})"
)
_ALLOWED_ESCAPES = (b"\\u0009", b"\\u000a", b"\\u000A", b"\\u000d", b"\\u000D")


def body_limit_bytes(path: str) -> int:
    """The largest body a route takes (every route takes small text today)."""
    return DEFAULT_BODY_LIMIT_BYTES


def _bad_text(raw: bytes) -> bool:
    if _CONTROL.search(raw):
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _bad_json_escape(raw: bytes) -> bool:
    if b"\\u" not in raw:  # most bodies: no scan by the escape pattern at all
        return False
    for match in _JSON_ESCAPE.finditer(raw):
        escape = match.group(0).lstrip(b"\\")
        if match.group("high") is not None:
            if match.group("low") is None:
                return True
            continue
        if b"\\" + escape not in _ALLOWED_ESCAPES:
            return True
    return False


def refusal_of_query(scope: Scope) -> str | None:
    """Why the path or query string cannot be taken, if it cannot."""
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass")
    query = scope.get("query_string", b"").replace(b"+", b" ")
    if _bad_text(unquote_to_bytes(raw_path)) or _bad_text(unquote_to_bytes(query)):
        return N_("The address holds characters that are not text (NUL, control or invalid UTF-8).")
    return None


def refusal_of_body(body: bytes, content_type: str) -> str | None:
    """Why the body cannot be taken, if it cannot."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        body = unquote_to_bytes(body.replace(b"+", b" "))
    elif content_type.startswith("multipart/"):
        return None  # parsed by the form parser; no route takes files
    if _bad_text(body) or (content_type.startswith("application/json") and _bad_json_escape(body)):
        return N_(
            "The request holds characters that are not text (NUL, control or lone surrogates)."
        )
    return None


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _too_large(limit: int) -> str:
    return _("The request body is larger than %(size)s KiB.") % {"size": limit // 1024}


class GuardInput:
    """ASGI middleware: 413 for a body over its route's limit, 400 for text that is not text,
    in the reader's language (``LocaleFromBrowser`` runs outside it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = refusal_of_query(scope)
        if refusal is not None:
            await _answer(send, 400, _(refusal))
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = body_limit_bytes(scope["path"])
        headers = dict(scope.get("headers", ()))
        declared = headers.get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > limit:
            await _answer(send, 413, _too_large(limit))
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _answer(send, 413, _too_large(limit))
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        refusal = refusal_of_body(body, headers.get(b"content-type", b"").decode("latin-1"))
        if refusal is not None:
            await _answer(send, 400, _(refusal))
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


# Ids are 32-bit integer columns: a larger number is no row, not a database error.
INT4_MAX = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=INT4_MAX)]
TextId = Annotated[str, Path(min_length=1, max_length=64)]
