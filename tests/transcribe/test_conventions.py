"""The verbatim conventions as a transcriber meets them on submit."""

from __future__ import annotations

import json
import random
import time

import pytest

from crowdscribe.errors import ConventionError
from transcribe.conventions import (
    EVENT_TAGS,
    Problem,
    check_transcript,
    find_problems,
    is_chinese,
    tokenize,
    validate_transcript,
)
from transcribe.limits import MAX_PROBLEMS_SHOWN
from transcribe.spoken_numbers import chinese_number, english_number


def codes(text: str, language: str = "en") -> list[str]:
    return [p.code for p in validate_transcript(text, language)]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I I want the the big- [noise] big dog um ((red one))", "en"),
        ("and then he goed to the the shop [laugh]", "en-child"),
        ("uh well-known don't ((maybe)) [unintelligible] okay", "en"),
        ("[no-speech]", "en"),
        ("[no-speech] [noise]", "en"),
        ("我哋 嗯 去咗 公- 公園 [laugh] 啊", "yue"),
        ("呃 我们 我们今天 ((去)) 西安 [cough]", "cmn-shaanxi"),
        ("我們今天去公园，媽媽說「好啊」。", "zh"),
        ('He said, "no!" — then left…', "en"),
    ],
)
def test_verbatim_transcripts_following_the_guide_pass(text: str, language: str) -> None:
    assert validate_transcript(text, language) == []


def test_tokens_carry_kind_text_and_position() -> None:
    text = "I I wan- [noise] um ((red one)) 嗯 好"
    tokens = tokenize(text)
    assert [(t.kind, t.text) for t in tokens] == [
        ("word", "I"),
        ("word", "I"),
        ("cutoff", "wan-"),
        ("event", "[noise]"),
        ("filled_pause", "um"),
        ("guess", "((red one))"),
        ("filled_pause", "嗯"),
        ("word", "好"),
    ]
    for token in tokens:
        assert text[token.start : token.end] == token.text
    assert tokens[3].content == "noise"
    assert tokens[5].content == "red one"


def test_each_chinese_character_is_its_own_token_and_latin_words_stay_whole() -> None:
    tokens = tokenize("我用iPad玩")
    assert [t.text for t in tokens] == ["我", "用", "iPad", "玩"]


def test_unknown_tag_names_the_nearest_known_one() -> None:
    [problem] = validate_transcript("he [laughter] said", "en")
    assert (problem.start, problem.end, problem.code) == (3, 13, "unknown_tag")
    assert "[laugh]" in problem.message
    [upper] = validate_transcript("[NOISE] yes", "en")
    assert "[noise]" in upper.message


def test_every_problem_is_reported_with_its_position() -> None:
    text = "I have 3 [coff] <cats> - ((  )) ["
    problems = validate_transcript(text, "en")
    found = [(p.code, text[p.start : p.end]) for p in problems]
    assert found == [
        ("digit", "3"),
        ("unknown_tag", "[coff]"),
        ("disallowed_character", "<"),
        ("disallowed_character", ">"),
        ("stray_hyphen", "-"),
        ("empty_guess", "((  ))"),
        ("unclosed_bracket", "["),
    ]
    assert "[cough]" in problems[1].message


def test_digits_are_spelled_out_in_the_message_for_each_language() -> None:
    [english] = validate_transcript("she is 25 now", "en")
    assert english.message.endswith("write 25 as twenty-five")
    chinese = validate_transcript("我有3个 2024年", "cmn")
    assert [p.code for p in chinese] == ["digit", "digit"]
    assert "写成 三" in chinese[0].message
    assert "写成 二零二四" in chinese[1].message


def test_full_width_digits_are_digits_too() -> None:
    assert codes("我有３个", "yue") == ["digit"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[ [noise] ]", ["nested_brackets"]),
        ("((a ((b)) c))", ["nested_brackets", "unopened_guess"]),
        ("((big [noise] dog))", ["nested_brackets"]),
        ("a ((b", ["unclosed_guess"]),
        ("a)) b", ["unopened_guess"]),
        ("a ] b", ["unopened_bracket"]),
        ("[", ["unclosed_bracket"]),
        ("(maybe) yes", ["single_parenthesis", "single_parenthesis"]),
        ("[] yes", ["empty_tag"]),
        ("（猜）", ["disallowed_character"] * 2),
        ("a -- b", ["stray_hyphen"]),
        ("a {b} #c *d", ["disallowed_character"] * 4),
    ],
)
def test_bracket_and_character_mistakes(text: str, expected: list[str]) -> None:
    assert codes(text) == expected


@pytest.mark.parametrize("text", ["", "   ", " ... "])
def test_empty_text_must_say_no_speech(text: str) -> None:
    [problem] = validate_transcript(text, "en")
    assert problem.code == "empty_transcript"
    assert "[no-speech]" in problem.message


def test_no_speech_cannot_be_mixed_with_words() -> None:
    assert codes("[no-speech] hello") == ["no_speech_mixed"]
    assert codes("[no-speech] [unintelligible]") == ["no_speech_mixed"]


def test_check_returns_text_with_whitespace_normalised() -> None:
    assert check_transcript("  I  I\twant\n[noise]  ", "en") == "I I want [noise]"


def test_check_raises_with_every_problem_as_json() -> None:
    with pytest.raises(ConventionError) as caught:
        check_transcript("I saw 2 [musik]", "en")
    error = caught.value
    assert error.http_status == 422
    assert all(isinstance(p, Problem) for p in error.problems)
    body = json.dumps([p.to_dict() for p in error.problems])
    assert json.loads(body)[1] == {
        "start": 8,
        "end": 15,
        "code": "unknown_tag",
        "message": "Unknown tag [musik]; did you mean [music]?",
    }
    assert "2 problems" in error.message


def test_event_tags_are_the_documented_set() -> None:
    assert {"noise", "laugh", "cough", "breath", "music", "no-speech", "unintelligible"} == set(
        EVENT_TAGS
    )


@pytest.mark.parametrize(
    ("language", "chinese"),
    [
        ("yue", True),
        ("yue-HK", True),
        ("cmn-shaanxi", True),
        ("zh-TW", True),
        ("wuu", True),
        ("nan", True),
        ("hak", True),
        ("en", False),
        ("en-child", False),
        ("fr", False),
    ],
)
def test_chinese_languages(language: str, chinese: bool) -> None:
    assert is_chinese(language) is chinese


@pytest.mark.parametrize(
    ("digits", "english", "chinese"),
    [
        ("0", "zero", "零"),
        ("12", "twelve", "十二"),
        ("25", "twenty-five", "二十五"),
        ("105", "one hundred five", "一百零五"),
        ("2000", "two thousand", "两千"),
        ("20010", "twenty thousand ten", "两万零一十"),
        ("3.5", "three point five", "三点五"),
        ("007", "zero zero seven", "零零七"),
    ],
)
def test_numbers_as_spoken(digits: str, english: str, chinese: str) -> None:
    assert english_number(digits) == english
    assert chinese_number(digits) == chinese


def test_the_examples_in_the_guide_pass_and_the_refused_ones_fail() -> None:
    from pathlib import Path

    guide = (Path(__file__).parents[2] / "docs" / "conventions.md").read_text(encoding="utf-8")
    examples = guide.split("## Examples", 1)[1].split("## How transcripts are compared", 1)[0]
    blocks = examples.split("```")[1::2]
    assert len(blocks) == 4
    for block, language in zip(blocks[:3], ["en", "yue", "cmn-shaanxi"], strict=True):
        for line in block.strip().splitlines():
            assert validate_transcript(line, language) == [], line
    for line in blocks[3].strip().splitlines():
        text = line.split("->")[0].strip()
        if text:
            assert validate_transcript(text, "cmn" if "个" in text else "en") != [], text


HOSTILE_PIECES = (
    "word",
    "we",
    " ",
    "\n",
    "<",
    "-",
    "1",
    "2.5",
    "[",
    "]",
    "(",
    ")",
    "((",
    "))",
    "[noise]",
    "[no-speech]",
    "[nosie]",
    "【",
    "】",
    "（（",
    "））",
    "［笑］",
    "我",
    "um",
    "big-",
    "\u3000",
)


@pytest.mark.parametrize("shown", [0, 1, 3, 20])
def test_the_first_problems_shown_and_their_count_are_those_of_a_full_check(shown: int) -> None:
    chooser = random.Random(shown)
    for _ in range(400):
        text = "".join(chooser.choice(HOSTILE_PIECES) for _ in range(chooser.randint(1, 60)))
        language = chooser.choice(["en", "yue"])
        every = validate_transcript(text, language)
        found = find_problems(text, language, shown=shown)
        assert found.problems == tuple(every[:shown]), text
        assert found.count == len(every), text


@pytest.mark.parametrize(
    "text",
    [
        "[" + " " * 1999,  # took 53 s: spaces on both sides of a lazy tag name
        "【" + "\u3000" * 1999,
        "（" * 2000,  # each guess mark was compared with every folded tag
        "[ab]" * 500,  # a hint for each unknown tag
        "<" * 2000,
        "a1" * 1000,
    ],
)
def test_a_hostile_text_is_checked_in_linear_time(text: str) -> None:
    started = time.perf_counter()
    found = find_problems(text, "en")
    assert time.perf_counter() - started < 0.25
    assert found.count >= 1
    assert len(found.problems) <= MAX_PROBLEMS_SHOWN


def test_a_refusal_names_the_first_problems_and_counts_them_all() -> None:
    with pytest.raises(ConventionError) as refused:
        check_transcript("we < " * 300, "en")
    assert len(refused.value.problems) == MAX_PROBLEMS_SHOWN
    assert refused.value.problem_count == 300
    assert "(300 problems)" in refused.value.message
