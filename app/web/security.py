"""Signed-cookie sessions and CSRF tokens for the server-rendered pages.

The session cookie (Starlette's SessionMiddleware, signed with itsdangerous) holds only the
person's id and a per-session CSRF token; every form post carries that token in a hidden
field, and a page's own scripts send it in the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

SESSION_COOKIE = "crowdscribe_session"
SESSION_MAX_AGE_S = 14 * 24 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
USER_KEY = "uid"
VERSION_KEY = "sv"
CSRF_KEY = "csrf"
NOTICE_KEY = "notice"


def csrf_token_for(request: Request) -> str:
    """The session's CSRF token, created on first use so the login form has one too."""
    token = request.session.get(CSRF_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


def csrf_matches(request: Request, presented: str | None) -> bool:
    """Whether ``presented`` is this session's CSRF token (constant-time comparison)."""
    expected = request.session.get(CSRF_KEY)
    if not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())


def log_in(request: Request, user_id: int, session_version: int) -> None:
    """Start a fresh session for ``user_id``: a new CSRF token so a pre-login one is useless.
    The cookie is good while the person's ``session_version`` stays the same."""
    request.session.clear()
    request.session[USER_KEY] = user_id
    request.session[VERSION_KEY] = session_version
    request.session[CSRF_KEY] = secrets.token_urlsafe(32)


def log_out(request: Request) -> None:
    """Forget who is logged in on this browser."""
    request.session.clear()


def session_user_id(request: Request) -> int | None:
    """The id stored in the signed session cookie, if any."""
    value = request.session.get(USER_KEY)
    return value if isinstance(value, int) else None


def session_version_of(request: Request) -> int | None:
    """The session version the cookie was issued under, if any."""
    value = request.session.get(VERSION_KEY)
    return value if isinstance(value, int) else None


def flash(request: Request, message: str) -> None:
    """Keep a one-line notice for the next page this browser renders (after a redirect)."""
    request.session[NOTICE_KEY] = message


def pop_flash(request: Request) -> str | None:
    """The pending notice, removed so it shows once."""
    return request.session.pop(NOTICE_KEY, None)
