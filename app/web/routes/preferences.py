"""A person's reading preferences: the language of the pages and the time zone of their clock."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Body, Request
from fastapi.responses import RedirectResponse, Response

from app.web.deps import CsrfChecked, CurrentPerson, DbSession
from app.web.i18n import LOCALE_COOKIE, LOCALES, _
from app.web.security import SESSION_MAX_AGE_S, session_user_id
from crowdscribe.errors import InvalidInput
from crowdscribe.storage.models import User

router = APIRouter(tags=["preferences"], include_in_schema=False)


def _back_to(next_url: str) -> str:
    # Only paths on this site, as after logging in.
    return next_url if next_url.startswith("/") and not next_url.startswith("//") else "/"


# A link, not a form: switching language changes nothing anyone else sees, and a link works on
# every page, logged in or not, with no script.
@router.get("/preferences/locale")
def choose_locale_page(
    request: Request, session: DbSession, locale: str, next: str = "/"
) -> Response:
    """Switch the pages' language: remembered by this browser, and saved for a logged-in person."""
    if locale not in LOCALES:
        raise InvalidInput(_("Choose one of the offered languages."))
    user_id = session_user_id(request)
    user = session.get(User, user_id) if user_id is not None else None
    if user is not None:
        user.locale = locale
    response = RedirectResponse(_back_to(next), status_code=303)
    response.set_cookie(LOCALE_COOKIE, locale, max_age=SESSION_MAX_AGE_S, samesite="lax")
    return response


def valid_time_zone(name: str) -> str:
    """``name`` if it is an IANA time zone this server knows (Asia/Shanghai), else a refusal."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(_("Unknown time zone; pick one such as Asia/Shanghai.")) from None
    return name


@router.post("/preferences/time-zone", dependencies=[CsrfChecked], status_code=204)
def save_time_zone(
    person: CurrentPerson,
    session: DbSession,
    time_zone: Annotated[str, Body(embed=True, max_length=64)],
) -> Response:
    """Save the person's time zone (their browser's, sent once by ``/static/clock.js``)."""
    user = session.get(User, person.id)
    user.time_zone = valid_time_zone(time_zone)
    return Response(status_code=204)
