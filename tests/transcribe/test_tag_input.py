"""Tags typed with a Chinese input method are the canonical tags, never words."""

from __future__ import annotations

import pytest

from review.agreement import pairwise_error_rates
from review.normalize import normalize
from transcribe.conventions import check_transcript, validate_transcript
from transcribe.tag_input import fold_tag_input


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("【noise】 我哋去咗", "[noise] 我哋去咗"),
        ("［笑］ 好好笑", "[laugh] 好好笑"),
        ("【 咳嗽 】 嗯", "[cough] 嗯"),
        ("佢話 [听不清] 唔去", "佢話 [unintelligible] 唔去"),
        ("佢話 [聽不清] 唔去", "佢話 [unintelligible] 唔去"),
        ("（（落雨））唔去喇", "((落雨))唔去喇"),
        ("【Music】 la", "[music] la"),
        ("〔噪音〕 我们", "[noise] 我们"),
    ],
)
def test_ime_tags_fold_to_the_canonical_tag(typed: str, canonical: str) -> None:
    assert check_transcript(typed, "yue") == canonical


def test_ime_tags_compare_as_events_not_words() -> None:
    assert normalize("【noise】 我哋去咗", "yue") == normalize("[noise] 我哋去咗", "yue")
    assert normalize("［笑］ I want", "en").events == ("laugh",)
    rates = pairwise_error_rates(["【noise】 我哋去咗", "[noise] 我哋去咗"], "yue")
    assert rates == [[0.0, 0.0], [0.0, 0.0]]


def test_an_unknown_name_in_full_width_brackets_is_refused_with_a_hint() -> None:
    [problem] = validate_transcript("我哋 【laughter】 去", "yue")
    assert problem.code == "unknown_tag"
    assert "[laugh]" in problem.message
    # The position points at what the person typed, not at the folded text.
    assert (problem.start, problem.end) == (3, 13)


def test_positions_after_a_folded_tag_stay_those_of_the_typed_text() -> None:
    text = "【噪音】 我有3个"
    [problem] = validate_transcript(text, "cmn")
    assert problem.code == "digit"
    assert text[problem.start : problem.end] == "3"


def test_text_without_ime_tags_is_kept_as_typed() -> None:
    folded = fold_tag_input("he [laughter] said (maybe)")
    assert folded.text == folded.original
    assert fold_tag_input("媽媽 我要食雪糕啊。").text == "媽媽 我要食雪糕啊。"
