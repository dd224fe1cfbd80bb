"""Which language a person reads, and the gettext catalogs that speak it.

Catalogs are the ``.po`` files under ``app/locale``; they are compiled in memory (by Babel) the
first time a locale is used, so no build step can leave a stale ``.mo`` behind. The locale of the
request in hand lives in a context variable: ``_()`` in Python and ``{{ _() }}`` in templates
both read it. How to re-extract and update the catalogs: ``docs/translating.md``.
"""

from __future__ import annotations

import gettext as gettext_module
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from functools import cache
from http.cookies import CookieError, SimpleCookie
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.types import ASGIApp, Receive, Scope, Send

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
ENGLISH = "en"
SIMPLIFIED = "zh_Hans"
TRADITIONAL = "zh_Hant"
LOCALES: tuple[str, ...] = (SIMPLIFIED, TRADITIONAL, ENGLISH)
# The switch in the header names each locale in its own script.
LOCALE_LABELS: dict[str, str] = {
    SIMPLIFIED: "简体中文",
    TRADITIONAL: "繁體中文",
    ENGLISH: "English",
}
LOCALE_COOKIE = "crowdscribe_locale"
# Chinese regions and scripts that read Traditional characters.
_TRADITIONAL_TAGS = frozenset({"hant", "tw", "hk", "mo"})

_current_locale: ContextVar[str] = ContextVar("crowdscribe_locale", default=ENGLISH)


def N_(message: str) -> str:
    """Mark a string for the catalogs without translating it yet (tables built at import)."""
    return message


@cache
def translations(locale: str) -> gettext_module.NullTranslations:
    """The compiled catalog of ``locale`` (English falls back to the message ids themselves)."""
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale not in LOCALES or not po_path.is_file():
        return gettext_module.NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext_module.GNUTranslations(compiled)


def current_locale() -> str:
    """The locale of the request being served (English outside a request)."""
    return _current_locale.get()


def use_locale(locale: str) -> None:
    """Serve the rest of this request (or task) in ``locale``."""
    _current_locale.set(locale if locale in LOCALES else ENGLISH)


def gettext(message: str) -> str:
    """``message`` in the current locale, or as written when the catalog has no translation."""
    return translations(_current_locale.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for ``count`` in the current locale."""
    return translations(_current_locale.get()).ngettext(singular, plural, count)


_ = gettext


def html_lang(locale: str) -> str:
    """The BCP 47 tag for ``<html lang>``: zh-Hans, zh-Hant, en."""
    return locale.replace("_", "-")


def locale_for_tag(tag: str) -> str | None:
    """The locale of one language tag (zh-CN, zh-Hant-HK, en-GB, zh), or None if we have none."""
    parts = tag.strip().lower().replace("_", "-").split("-")
    if parts[0] == "en":
        return ENGLISH
    if parts[0] in ("zh", "cmn", "yue"):
        traditional = any(part in _TRADITIONAL_TAGS for part in parts[1:])
        if parts[0] == "yue" and len(parts) == 1:
            traditional = True
        return TRADITIONAL if traditional else SIMPLIFIED
    return None


def _weighted_tags(header: str) -> list[str]:
    weighted = []
    for position, item in enumerate(header.split(",")):
        tag, _sep, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _q, _p, tag in sorted(weighted)]


def negotiate(accept_language: str | None) -> str | None:
    """The best of our locales for an ``Accept-Language`` header, or None if none fits."""
    for tag in _weighted_tags(accept_language or ""):
        locale = locale_for_tag(tag)
        if locale is not None:
            return locale
    return None


def _script_unstated(accept_language: str | None) -> bool:
    tags = _weighted_tags(accept_language or "")
    return bool(tags) and tags[0].lower() in ("zh", "cmn")


def choose_locale(
    *,
    saved: str | None,
    cookie: str | None,
    accept_language: str | None,
    languages: Iterable[str] = (),
    language_locales: Mapping[str, str] | None = None,
) -> str:
    """The person's saved choice, else this browser's (cookie), else ``Accept-Language``, else
    English. A Chinese reader whose browser names no script, and whose every work language asks
    for one (Cantonese: Traditional), gets that script."""
    for choice in (saved, cookie):
        if choice in LOCALES:
            return choice
    locale = negotiate(accept_language)
    if locale is None:
        return ENGLISH
    asked = {(language_locales or {}).get(code) for code in languages}
    if locale == SIMPLIFIED and _script_unstated(accept_language) and asked == {TRADITIONAL}:
        return TRADITIONAL
    return locale


# Language codes in use (rate card, demo, conventions), named in the reader's language.
LANGUAGE_NAMES: dict[str, str] = {
    "en": N_("English"),
    "en-child": N_("Children's English"),
    "zh": N_("Chinese"),
    "cmn": N_("Mandarin"),
    "yue": N_("Cantonese"),
    "wuu": N_("Wu (Shanghainese)"),
    "nan": N_("Hokkien (Min Nan)"),
    "hak": N_("Hakka"),
    "gan": N_("Gan"),
    "hsn": N_("Xiang (Hunanese)"),
    "cjy": N_("Jin"),
    "cdo": N_("Min Dong (Fuzhounese)"),
    "cpx": N_("Puxian"),
    "czh": N_("Huizhou"),
    "mnp": N_("Min Bei"),
    "cmn-shaanxi": N_("Shaanxi"),
    "cmn-sichuan": N_("Sichuanese"),
    "cmn-dongbei": N_("Northeastern Mandarin"),
    "cmn-tianjin": N_("Tianjin"),
}


def language_name(code: str) -> str:
    """A language code (yue, cmn-shaanxi) as its name for the reader; the code if unknown."""
    name = LANGUAGE_NAMES.get(code.lower())
    return gettext(name) if name else code


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    cookies = SimpleCookie()
    try:
        cookies.load(_header(scope, b"cookie") or "")
    except CookieError:
        return None
    morsel = cookies.get(name)
    return morsel.value if morsel else None


class LocaleFromBrowser:
    """Serve each request in the browser's locale (cookie, else ``Accept-Language``) until the
    person is known: ``current_person`` then applies their saved choice."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            use_locale(
                choose_locale(
                    saved=None,
                    cookie=_cookie(scope, LOCALE_COOKIE),
                    accept_language=_header(scope, b"accept-language"),
                )
            )
        await self.app(scope, receive, send)
