"""Typing differences vanish before comparison; hearing differences stay."""

from __future__ import annotations

import opencc
import pytest

from review.normalize import (
    CANTONESE_WRITTEN_VARIANTS,
    CHINESE_FILLER_SPELLINGS,
    ENGLISH_SPELLINGS,
    NormalizedText,
    fold_width,
    normalize,
    split_compounds,
)
from review.script import convert


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


@pytest.mark.parametrize("config", ["t2s", "tw2s", "hk2s"])
def test_conversion_skips_text_without_convertible_characters_exactly(config: str) -> None:
    # The skip is an optimisation; it must give what OpenCC gives.
    converter = opencc.OpenCC(config)
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
        assert convert(text, config) == converter.convert(text)


@pytest.mark.parametrize("language", ["en", "yue"])
def test_normalising_is_cached_and_stable(language: str) -> None:
    assert normalize("Hello 我們", language) is normalize("Hello 我們", language)


# Typed the Cantonese way (traditional, as people write it) and the standard way.
CANTONESE_CASES = {
    "佢地": ("佢地食飯", "佢哋食飯"),
    "既": ("我既書", "我嘅書"),
    "左": ("佢去左", "佢去咗"),
    "无": ("我無錢", "我冇錢"),
    "黎": ("佢黎緊", "佢嚟緊"),
    "野": ("食野", "食嘢"),
    "宜家": ("宜家走", "而家走"),
}
ENGLISH_CASES = {
    "colour": ("the colour red", "the color red"),
    "favourite": ("my favourite", "my favorite"),
    "centre": ("the centre", "the center"),
    "grey": ("a grey cat", "a gray cat"),
    "realise": ("i realise", "i realize"),
    "neighbour": ("our neighbour", "our neighbor"),
    "okay": ("okay then", "OK then"),
    "umm": ("umm yes", "um yes"),
    "ummm": ("ummm yes", "um yes"),
    "uhm": ("uhm yes", "um yes"),
    "uhh": ("uhh no", "uh no"),
    "uhhh": ("uhhh no", "uh no"),
    "erm": ("erm no", "er no"),
    "ahh": ("ahh look", "ah look"),
    "mmm": ("mmm nice", "mm nice"),
    "hmmm": ("hmmm why", "hmm why"),
}
CHINESE_FILLER_CASES = {"恩": ("恩我想", "嗯我想"), "额": ("额我想", "呃我想")}


def test_every_table_entry_has_a_case() -> None:
    assert set(CANTONESE_CASES) == set(CANTONESE_WRITTEN_VARIANTS)
    assert set(ENGLISH_CASES) == set(ENGLISH_SPELLINGS)
    assert set(CHINESE_FILLER_CASES) == set(CHINESE_FILLER_SPELLINGS)


@pytest.mark.parametrize(("variant", "standard"), CANTONESE_CASES.values(), ids=CANTONESE_CASES)
def test_written_cantonese_variants_compare_equal(variant: str, standard: str) -> None:
    assert units(variant, "yue") == units(standard, "yue")
    assert units(variant, "yue") != units(variant, "cmn") or variant == standard


@pytest.mark.parametrize(("variant", "standard"), ENGLISH_CASES.values(), ids=ENGLISH_CASES)
def test_english_spelling_variants_compare_equal(variant: str, standard: str) -> None:
    assert units(variant) == units(standard)


@pytest.mark.parametrize(
    ("variant", "standard"), CHINESE_FILLER_CASES.values(), ids=CHINESE_FILLER_CASES
)
def test_chinese_filler_spellings_compare_equal(variant: str, standard: str) -> None:
    assert units(variant, "cmn") == units(standard, "cmn")


@pytest.mark.parametrize(
    ("language", "typed", "standard"),
    [
        ("cmn", "看著他", "看着他"),  # Taiwan standard (tw2s)
        ("cmn", "裡面的線", "里面的线"),
        ("yue", "佢着住件衫", "佢著住件衫"),  # Hong Kong standard (hk2s)
        ("yue", "睇著佢", "睇着佢"),
        ("zh", "後來", "后来"),  # plain traditional (t2s)
    ],
)
def test_regional_standards_compare_equal(language: str, typed: str, standard: str) -> None:
    assert units(typed, language) == units(standard, language)


def test_a_real_difference_still_differs_after_folding() -> None:
    assert units("佢去咗", "yue") != units("佢去咗未", "yue")
    assert units("the colour") != units("a colour")
