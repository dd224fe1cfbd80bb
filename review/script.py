"""Chinese scripts: OpenCC conversions by name, the conversions each language is compared in, and
the script final texts are stored and exported in.

Comparison folds every text to simplified, through the conversions of the standards people of
that language write (Taiwan-standard 看著 = 看着 = 看著 in Hong Kong typing). Final texts are
written in the project's script per language (``FINAL_SCRIPTS``, overridable in settings):
Mandarin in simplified, as mainland speech corpora are; Cantonese in Hong Kong traditional, as
written Cantonese and Cantonese corpora (Common Voice zh-HK, MDCC) are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path

import opencc

from crowdscribe.errors import InvalidInput

# OpenCC configurations that fold a language's written standards to simplified, in order.
COMPARISON_CONVERSIONS: dict[str, tuple[str, ...]] = {
    "cmn": ("tw2s",),
    "yue": ("hk2s", "tw2s"),
    "*": ("tw2s", "hk2s"),
}
# Target script -> OpenCC configurations that reach it from any Chinese text. Traditional
# targets go through simplified first, so Taiwan and Hong Kong forms end up in one standard.
SCRIPT_CONVERSIONS: dict[str, tuple[str, ...]] = {
    "simplified": ("hk2s", "tw2s"),
    "traditional": ("hk2s", "tw2s", "s2t"),
    "hk": ("hk2s", "tw2s", "s2hk"),
    "tw": ("hk2s", "tw2s", "s2tw"),
}
FINAL_SCRIPTS: dict[str, str] = {"cmn": "simplified", "yue": "hk", "zh": "simplified"}
DEFAULT_FINAL_SCRIPT = "simplified"

_OPENCC = Path(opencc.__file__).parent


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def _dictionary_files(config: str) -> list[str]:
    data = json.loads((_OPENCC / "config" / f"{config}.json").read_text(encoding="utf-8"))
    files: list[str] = []
    for step in data["conversion_chain"]:
        entry = step["dict"]
        group = entry["dicts"] if entry["type"] == "group" else [entry]
        files += [d["file"] for d in group]
    return files


@cache
def _markers(config: str) -> frozenset[str]:
    """Characters whose presence can make ``config`` change a text; text without any of them is
    returned as it is, so the slow converter is skipped for it."""
    markers: set[str] = set()
    for name in _dictionary_files(config):
        for line in (_OPENCC / "dictionary" / name).read_text(encoding="utf-8").splitlines():
            source, _, targets = line.partition("\t")
            target = targets.split(" ")[0]
            markers.update(c for i, c in enumerate(source) if target[i : i + 1] != c)
    return frozenset(markers)


@lru_cache(maxsize=65536)
def convert(text: str, config: str) -> str:
    """``text`` through one OpenCC configuration (``t2s``, ``tw2s``, ``hk2s``, ``s2hk``...)."""
    if _markers(config).isdisjoint(text):
        return text
    return _converter(config).convert(text)


def _language_key(language: str, table: Mapping[str, object]) -> str:
    base = language.lower().replace("_", "-").split("-", 1)[0]
    return base if base in table else "*"


def comparison_conversions(language: str) -> tuple[str, ...]:
    """The OpenCC conversions a language's texts are folded through before comparison."""
    return COMPARISON_CONVERSIONS[_language_key(language, COMPARISON_CONVERSIONS)]


# Characters a conversion would wrongly change when the text is already simplified, and the
# traditional form that converts back to them: tw2s reads a simplified 么 as Taiwan's variant of
# 幺, so 什么 typed in simplified would differ from 什麼 typed in traditional.
SIMPLIFIED_PROTECTED: dict[str, str] = {"么": "麼"}


def _through(text: str, configs: tuple[str, ...]) -> str:
    for config in configs:
        for simplified, traditional in SIMPLIFIED_PROTECTED.items():
            text = text.replace(simplified, traditional)
        text = convert(text, config)
    return text


def to_comparison_script(text: str, language: str) -> str:
    """Simplified characters, from whichever standard the person typed (Taiwan, Hong Kong...)."""
    return _through(text, comparison_conversions(language))


def to_script(text: str, script: str) -> str:
    """``text`` written in ``script``: simplified | traditional | hk | tw (Latin untouched)."""
    if script not in SCRIPT_CONVERSIONS:
        raise InvalidInput(f"Unknown script {script!r}; use one of {', '.join(SCRIPT_CONVERSIONS)}")
    return _through(text, SCRIPT_CONVERSIONS[script])


def final_script(language: str, overrides: Mapping[str, str] | None = None) -> str:
    """The script a Chinese language's final texts are stored and exported in."""
    scripts = {**FINAL_SCRIPTS, **(overrides or {})}
    base = language.lower().replace("_", "-").split("-", 1)[0]
    return scripts.get(language.lower(), scripts.get(base, DEFAULT_FINAL_SCRIPT))
