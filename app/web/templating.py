"""Jinja2 templates shared by every router; each page sees who is logged in and the CSRF token."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from app.web.domain_messages import translate_message
from app.web.i18n import (
    LOCALE_LABELS,
    current_locale,
    gettext,
    html_lang,
    language_name,
    ngettext,
)
from app.web.labels import label
from app.web.local_time import calendar_date, format_local, iso_with_offset, zone_label
from app.web.security import csrf_token_for, pop_flash
from app.web.transcriber_view import person_zone

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def _page_context(request: Request) -> dict[str, Any]:
    # The nav in base.html adapts to roles; forms need the session's CSRF token.
    person = getattr(request.state, "person", None)
    zone = person_zone(person, request.app.state.settings)
    return {
        "person": person,
        "time_zone": zone,
        "time_zone_name": str(zone),
        "time_zone_label": zone_label(zone, current_locale()),
        "script_text": _script_text(zone_label(zone, current_locale())),
        "csrf_token": csrf_token_for(request),
        "flash": pop_flash(request),
        "locale": current_locale(),
        "html_lang": html_lang(current_locale()),
        "locale_labels": LOCALE_LABELS,
    }


def _script_text(zone: str) -> dict[str, str]:
    # The words the pages' scripts write, in the page's language.
    return {
        "zoned": gettext("%(time)s %(zone)s"),
        "zone_label": zone,
        "follows": gettext("✓ Follows the conventions."),
        "characters": gettext("Characters %(first)s–%(last)s:"),
        "empty": gettext("(empty)"),
        "reserved": gettext("Clip reserved for you until %(time)s."),
        "not_reserved": gettext("Could not keep this clip reserved."),
    }


@pass_context
def local_time(context: Context, moment: datetime | None, style: str = "datetime") -> str:
    """A stored (UTC) time in the reader's zone and language: ``{{ lease_end | local_time }}``."""
    return format_local(moment, context["time_zone"], context["locale"], style)


@pass_context
def zoned(context: Context, clock_text: str) -> str:
    """A shown time with the reader's zone named: ``{{ t | local_time("time") | zoned }}``, for a
    time that stands alone in a sentence (tables say their zone once, below them)."""
    return gettext("%(time)s %(zone)s") % {"time": clock_text, "zone": context["time_zone_label"]}


def money(amount: Decimal | None, currency: str | None = None) -> str:
    """Format an exact amount for people: two decimals and the currency code."""
    if amount is None:
        return "–"
    text = f"{Decimal(amount).quantize(Decimal('0.01')):,}"
    return f"{text} {currency}" if currency else text


def money_range(amounts: tuple[Decimal, Decimal] | None, currency: str | None = None) -> str:
    """A pay range as ``0.80–1.20 CNY``, or one amount when both ends are equal."""
    if amounts is None:
        return "–"
    low, high = amounts
    if money(low) == money(high):
        return money(low, currency)
    return f"{money(low)}–{money(high, currency)}"


def duration(seconds: float | None) -> str:
    """Seconds as ``m:ss`` (or ``h:mm:ss``) for display."""
    if seconds is None:
        return "–"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


templates = Jinja2Templates(directory=str(TEMPLATES_DIR), context_processors=[_page_context])
templates.env.add_extension("jinja2.ext.i18n")
# Newstyle: {{ _("%(n)s clips", n=3) }} formats after translating and escapes the values.
templates.env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
templates.env.filters["language_name"] = language_name
templates.env.filters["label"] = label
templates.env.filters["domain_message"] = translate_message
templates.env.filters["local_time"] = local_time
templates.env.filters["zoned"] = zoned
templates.env.filters["iso_time"] = iso_with_offset
templates.env.filters["calendar_date"] = calendar_date
templates.env.filters["money"] = money
templates.env.filters["duration"] = duration
templates.env.filters["money_range"] = money_range
