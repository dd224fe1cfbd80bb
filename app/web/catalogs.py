"""Keeping the gettext catalogs in step with the code: ``python -m app.web.catalogs``.

Extracts every ``_()``/``N_()`` message of the web app's Python and templates (``babel.cfg``),
adds new ones to each catalog and drops vanished ones, then writes Traditional Chinese from
Simplified through OpenCC (Hong Kong forms), keeping any Traditional text a translator set by
hand. Translate the empty ``msgstr`` entries of ``zh_Hans`` afterwards and run it again.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po
from opencc import OpenCC

from app.web.i18n import ENGLISH, LOCALE_DIR, SIMPLIFIED, TRADITIONAL

ROOT = LOCALE_DIR.parent.parent
CONFIG = ROOT / "babel.cfg"
DOMAIN = "messages"


def extract() -> Catalog:
    """Every translatable message in the web app, as Babel's extractor finds it."""
    with CONFIG.open() as config:
        method_map, options_map = parse_mapping_cfg(config, str(CONFIG))
    template = Catalog(project="crowdscribe", fuzzy=False)
    for _file, _line, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        template.add(message, None, auto_comments=comments, context=context)
    return template


def _forms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    return text if isinstance(text, tuple) else (text,)


def catalog_path(locale: str) -> Path:
    """Where the ``.po`` file of ``locale`` lives."""
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(locale: str) -> Catalog:
    """The catalog of ``locale`` as committed (empty if there is none yet)."""
    path = catalog_path(locale)
    if not path.is_file():
        return Catalog(locale=locale, project="crowdscribe")
    with path.open("rb") as po_file:
        return read_po(po_file, locale=locale)


def _write(catalog: Catalog, locale: str) -> None:
    path = catalog_path(locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog.fuzzy = False  # a fuzzy header would be left out of the compiled catalog
    with path.open("wb") as po_file:
        write_po(
            po_file,
            catalog,
            sort_output=True,
            no_location=True,
            ignore_obsolete=True,
            width=100,
        )


def _convert(converter: OpenCC, text: str | tuple[str, ...]) -> str | tuple[str, ...]:
    # Plural messages carry a tuple of forms.
    if isinstance(text, tuple):
        return tuple(converter.convert(form or "") for form in text)
    return converter.convert(text or "")


def update() -> dict[str, int]:
    """Bring every catalog in step with the code; the number of untranslated messages each
    (English needs none: its messages are the ids themselves)."""
    template = extract()
    untranslated = {}
    for locale in (SIMPLIFIED, ENGLISH):
        catalog = read_catalog(locale)
        catalog.update(template, no_fuzzy_matching=True)
        _write(catalog, locale)
        untranslated[locale] = sum(1 for m in catalog if m.id and not all(_forms(m.string)))
    simplified, traditional = read_catalog(SIMPLIFIED), read_catalog(TRADITIONAL)
    converter = OpenCC("s2hk")
    converted = Catalog(locale=TRADITIONAL, project="crowdscribe")
    for message in simplified:
        if not message.id:
            continue
        kept = traditional.get(message.id)
        by_hand = kept is not None and kept.string and "hand" in kept.flags
        text = kept.string if by_hand else _convert(converter, message.string)
        converted.add(message.id, text, flags=kept.flags if by_hand else ())
    _write(converted, TRADITIONAL)
    untranslated[TRADITIONAL] = untranslated[SIMPLIFIED]
    return untranslated


if __name__ == "__main__":
    missing = update()[SIMPLIFIED]
    print(
        f"{missing} messages without a Simplified Chinese translation in {catalog_path(SIMPLIFIED)}"
    )
