"""Normalisation for comparing transcripts: small composable steps, chosen per language.

Two transcripts of the same speech should differ only where the people heard differently, not
where they typed differently. So before comparing we fold full-width to half-width, traditional
(Taiwan and Hong Kong standards) to simplified Chinese (review.script), written-Cantonese
variants, case, punctuation, spelling variants (the tables below) and digits to the spoken form;
hyphenated compounds are split (``well-known`` = ``well known``). The conventions' tags are
handled explicitly:

- non-speech events (``[noise]``, ``[laugh]``...) are compared apart, never as words;
- ``((guess))`` counts as the words guessed;
- a cut-off keeps its hyphen (``wor-``) so it differs from the full word ``word``;
- filled pauses (``um``, ``嗯``) and ``[unintelligible]`` are kept as tokens.

Chinese text becomes one unit per character (spaces ignored); a Latin word inside it stays one
unit. Other languages become one unit per word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache, partial

from review.script import to_comparison_script
from transcribe.conventions import NON_SPEECH_TAGS, Token, is_chinese, tokenize
from transcribe.spoken_numbers import NUMBER_RE, spoken_number

_DIGIT = re.compile(r"\d")
# Each table maps a variant to the form it is compared as; tests/review/test_normalize.py has a
# case per entry. Cantonese variants apply after folding to simplified, so keys are simplified.
CANTONESE_WRITTEN_VARIANTS: dict[str, str] = {
    "佢地": "佢哋",
    "既": "嘅",
    "左": "咗",
    "无": "冇",
    "黎": "嚟",
    "野": "嘢",
    "宜家": "而家",
}
ENGLISH_SPELLINGS: dict[str, str] = {
    "colour": "color",
    "favourite": "favorite",
    "centre": "center",
    "grey": "gray",
    "realise": "realize",
    "neighbour": "neighbor",
    "okay": "ok",
    # filler spellings
    "umm": "um",
    "ummm": "um",
    "uhm": "um",
    "uhh": "uh",
    "uhhh": "uh",
    "erm": "er",
    "ahh": "ah",
    "mmm": "mm",
    "hmmm": "hmm",
}
CHINESE_FILLER_SPELLINGS: dict[str, str] = {"恩": "嗯", "额": "呃"}
TextStep = Callable[[str], str]
TokenStep = Callable[[list[str], bool], list[str]]


@dataclass(frozen=True)
class NormalizedText:
    """What is compared: speech ``units`` (words, or characters for Chinese) and, apart from
    them, the non-speech ``events`` in order."""

    units: tuple[str, ...]
    events: tuple[str, ...]


def fold_width(text: str) -> str:
    """Full-width letters, digits and brackets to half-width (Unicode NFKC)."""
    return unicodedata.normalize("NFKC", text) if not text.isascii() else text


def fold_written_cantonese(text: str) -> str:
    """Common written-Cantonese variants to the standard form (佢地 = 佢哋), on simplified text."""
    for variant, standard in CANTONESE_WRITTEN_VARIANTS.items():
        if variant in text:
            text = text.replace(variant, standard)
    return text


def fold_spellings(units: list[str], chinese: bool) -> list[str]:
    """Spellings of one word (colour = color, okay = OK, umm = um, 恩 = 嗯) compare equal."""
    table = CHINESE_FILLER_SPELLINGS if chinese else ENGLISH_SPELLINGS
    return [table.get(unit, unit) for unit in units]


def fold_case(units: list[str], chinese: bool) -> list[str]:
    """Case-insensitive comparison; the typographic apostrophe equals the plain one."""
    return [unit.lower().replace("’", "'") for unit in units]


def split_compounds(units: list[str], chinese: bool) -> list[str]:
    """``well-known`` compares as ``well known``; a cut-off's final hyphen stays."""
    out: list[str] = []
    for unit in units:
        if "-" in unit.rstrip("-") and not unit.startswith("["):
            parts = unit.split("-")
            tail_cut = unit.endswith("-")
            words = [part for part in parts if part]
            if tail_cut:
                words[-1] += "-"
            out.extend(words)
        else:
            out.append(unit)
    return out


def spell_digits(units: list[str], chinese: bool) -> list[str]:
    """Digits that slipped through become the spoken words (25 -> twenty five, 二十五)."""
    out: list[str] = []
    for index, unit in enumerate(units):
        if not _DIGIT.search(unit):
            out.append(unit)
            continue
        next_unit = units[index + 1] if index + 1 < len(units) else ""
        out.extend(_units_of(_spoken(unit, chinese, next_unit).replace("-", " "), chinese))
    return out


def _spoken(unit: str, chinese: bool, next_unit: str) -> str:
    parts: list[str] = []
    position = 0
    for number in NUMBER_RE.finditer(unit):
        following = unit[number.end() : number.end() + 1] or next_unit[:1]
        parts += [
            unit[position : number.start()],
            spoken_number(number.group(), chinese, following),
        ]
        position = number.end()
    parts.append(unit[position:])
    return " ".join(parts)


def _units_of(text: str, chinese: bool) -> list[str]:
    return [token.text for token in tokenize(text)] if chinese else text.split()


UNIT_STEPS: tuple[TokenStep, ...] = (fold_case, split_compounds, spell_digits, fold_spellings)


def text_steps(language: str) -> tuple[TextStep, ...]:
    """The steps on the whole text for a language, before it is cut into units."""
    if not is_chinese(language):
        return (fold_width,)
    simplified: TextStep = partial(to_comparison_script, language=language)
    if language.lower().split("-", 1)[0] == "yue":
        return (fold_width, simplified, fold_written_cantonese)
    return (fold_width, simplified)


def speech_units(tokens: Iterable[Token]) -> tuple[list[str], list[str]]:
    """Split tokens into speech units and non-speech events; a guess gives its words."""
    units: list[str] = []
    events: list[str] = []
    for token in tokens:
        if token.kind == "event":
            name = token.content
            if name in NON_SPEECH_TAGS:
                events.append(name)
            else:
                units.append(token.text)
        elif token.kind == "guess":
            units.extend(inner.text for inner in tokenize(token.content))
        else:
            units.append(token.text)
    return units, events


@lru_cache(maxsize=16384)
def normalize(text: str, language: str) -> NormalizedText:
    """The comparison form of a transcript for its language (cached: a clip's texts are compared
    several times over)."""
    chinese = is_chinese(language)
    for step in text_steps(language):
        text = step(text)
    units, events = speech_units(tokenize(text))
    for unit_step in UNIT_STEPS:
        units = unit_step(units, chinese)
    return NormalizedText(tuple(units), tuple(events))
