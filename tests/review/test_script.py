"""Final texts in one script per language, whatever each person typed."""

from __future__ import annotations

import pytest

from crowdscribe.errors import InvalidInput
from review.normalize import normalize
from review.script import final_script, to_script


@pytest.mark.parametrize(
    ("text", "script", "expected"),
    [
        ("我們今天去公園", "simplified", "我们今天去公园"),
        ("看著他", "simplified", "看着他"),  # Taiwan form
        ("裡面的線", "simplified", "里面的线"),
        ("我们今天去公园", "hk", "我們今天去公園"),
        ("裡面", "hk", "裏面"),  # Taiwan form becomes the Hong Kong one
        ("头发發展", "hk", "頭髮發展"),  # mixed input comes out in one script
        ("后来他说了", "tw", "後來他說了"),
        ("我们", "traditional", "我們"),
        ("佢哋喺度 OK [noise]", "hk", "佢哋喺度 OK [noise]"),  # Cantonese and Latin untouched
        ("为什么", "simplified", "为什么"),  # not Taiwan's 幺
        ("為什麼", "simplified", "为什么"),
        ("为什么", "hk", "為什麼"),
    ],
)
def test_text_is_written_in_the_chosen_script(text: str, script: str, expected: str) -> None:
    assert to_script(text, script) == expected


def test_default_scripts_are_simplified_mandarin_and_hong_kong_cantonese() -> None:
    assert final_script("cmn") == "simplified"
    assert final_script("cmn-shaanxi") == "simplified"
    assert final_script("yue") == "hk"
    assert final_script("yue", {"yue": "traditional"}) == "traditional"


def test_an_unknown_script_is_refused() -> None:
    with pytest.raises(InvalidInput, match="Unknown script"):
        to_script("我们", "pinyin")


@pytest.mark.parametrize("language", ["cmn", "yue", "zh"])
def test_why_typed_in_simplified_or_traditional_compares_equal(language: str) -> None:
    simplified, traditional = normalize("为什么", language), normalize("為什麼", language)
    assert simplified == traditional
    assert normalize("幺", language).units == ("幺",)
