"""Times as a person reads them: in their own zone and language, and ISO 8601 with an offset in
the JSON API.

Everything is stored and computed in UTC; only what is shown moves to the person's zone (their
saved one, else the project's ``default_time_zone``), and "today" is the person's day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_skeleton, get_timezone_name
from pydantic import PlainSerializer

from app.web.i18n import current_locale

# Babel skeletons: each locale orders and words a date its own way (12月2日, Dec 2); times are
# 24-hour everywhere, as the crowd's phones show them.
DATE_SKELETONS = {"datetime": "MMMd", "day": "MMMd", "date": "yMMMd"}


def zone_named(name: str | None, fallback: str = "UTC") -> tzinfo:
    """The IANA zone ``name``, else ``fallback``'s, else UTC: a bad saved name never breaks a
    page."""
    for candidate in (name, fallback):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return UTC


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime (SQLite hands back naive UTC values)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def start_of_day(now: datetime, zone: tzinfo) -> datetime:
    """Midnight that began the day of ``now`` in ``zone``, as UTC: where "today" starts for a
    person there (16:00 UTC the day before, for Asia/Shanghai)."""
    local = as_utc(now).astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def format_local(
    moment: datetime | None, zone: tzinfo, locale: str, style: str = "datetime"
) -> str:
    """``moment`` in ``zone``, written the way ``locale`` writes it; a dash for no time."""
    if moment is None:
        return "–"
    local = as_utc(moment).astimezone(zone)
    clock = local.strftime("%H:%M")
    if style == "time":
        return clock
    day = format_skeleton(DATE_SKELETONS[style], local, locale=locale)
    return f"{day} {clock}" if style == "datetime" else day


def zone_label(zone: tzinfo, locale: str) -> str:
    """The zone as its readers call it (中国时间, China Time, British Time); UTC stays UTC."""
    name = str(zone)
    if name in ("UTC", "Etc/UTC"):
        return "UTC"
    try:
        return get_timezone_name(zone, locale=locale)
    except (LookupError, ValueError):
        return name


def calendar_date(day: date, style: str = "date") -> str:
    """A calendar day (no time, so no zone) the way the current locale writes it: 2026年12月3日,
    Dec 3, 2026; ``style="day"`` leaves out the year."""
    return format_skeleton(DATE_SKELETONS[style], day, locale=current_locale())


def iso_with_offset(moment: datetime) -> str:
    """ISO 8601 with an explicit offset, the API's one form of a time (…T16:51:00+00:00)."""
    return as_utc(moment).isoformat()


# The API's datetime fields: never naive, whatever the database handed back.
Timestamp = Annotated[datetime, PlainSerializer(iso_with_offset, return_type=str, when_used="json")]
