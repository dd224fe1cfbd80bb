"""Typing differences vanish before comparison; hearing differences stay."""

from __future__ import annotations

import opencc
import pytest

from review.normalize import (
    NormalizedText,
    fold_width,
    normalize,
    split_compounds,
    to_simplified,
)


def units(text: str, language: str = "en") -> tuple[str, ...]:
    return normalize(text, language).units


def test_case_and_punctuation_are_folded() -> None:
    assert units("Well, I WANT it!") == units("well i want it")


def test_chinese_punctuation_is_folded() -> None:
    assert units("我们去公园，妈妈说「好啊」。", "cmn") == units("我们去公园妈妈说好啊", "cmn")


def test_traditional_and_simplified_chinese_compare_equal() -> None:
    assert units("我們今天去公園", "yue") == units("我们今天去公园", "yue")
    assert units("一目瞭然", "zh") == ("一", "目", "了", "然")


def test_full_width_and_half_width_compare_equal() -> None:
    assert units("ＯＫ 我们", "cmn") == units("OK 我们", "cmn")
    assert fold_width("ｈｅｌｌｏ") == "hello"


def test_chinese_is_compared_by_character_with_latin_words_whole() -> None:
    assert units("我 用 iPad 玩", "yue-hk") == ("我", "用", "ipad", "玩")


def test_events_are_kept_apart_from_words() -> None:
    form = normalize("I want [noise] the dog [laugh]", "en")
    assert form == NormalizedText(("i", "want", "the", "dog"), ("noise", "laugh"))
    assert units("I want the dog") == form.units


def test_a_guess_counts_as_its_words() -> None:
    assert units("the ((big dog)) ran") == units("the big dog ran")


def test_a_cut_off_differs_from_the_full_word() -> None:
    assert units("the wor- word") == ("the", "wor-", "word")
    assert units("公- 公园", "cmn") == ("公-", "公", "园")


def test_filled_pauses_and_unintelligible_are_kept() -> None:
    assert units("um I [unintelligible] uh") == ("um", "i", "[unintelligible]", "uh")
    assert units("嗯我想要", "yue") == ("嗯", "我", "想", "要")


def test_repetitions_are_kept() -> None:
    assert units("I I want") == ("i", "i", "want")


def test_digits_become_spoken_words() -> None:
    assert units("she is 25") == units("she is twenty-five")
    assert units("我有3个", "cmn") == units("我有三个", "cmn")
    assert units("2024年", "cmn") == tuple("二零二四年")


def test_compounds_compare_as_separate_words_and_keep_a_final_cut() -> None:
    assert split_compounds(["well-known", "ice-cre-"], False) == ["well", "known", "ice", "cre-"]


def test_simplification_skips_text_without_traditional_characters_exactly() -> None:
    converter = opencc.OpenCC("t2s")
    samples = [
        "我們今天去公園",
        "反覆思量",
        "乾隆皇帝",
        "头发發展",
        "我们去公园",
        "一目瞭然",
        "臺灣的颱風",
        "後來他說了",
        "嗯 [noise] 好啊",
    ]
    for text in samples:
        assert to_simplified(text) == converter.convert(text)


@pytest.mark.parametrize("language", ["en", "yue"])
def test_normalising_is_cached_and_stable(language: str) -> None:
    assert normalize("Hello 我們", language) is normalize("Hello 我們", language)
