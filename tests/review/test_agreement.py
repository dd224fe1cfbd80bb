"""Error rates between transcripts, the fast path against jiwer, and the agreement policy."""

from __future__ import annotations

import random
from pathlib import Path

import jiwer
import pytest

from crowdscribe.errors import InvalidInput
from review.agreement import (
    AgreementPolicy,
    align,
    clip_agreement,
    error_rate,
    event_error_rate,
    is_chinese,
    load_policy,
    pairwise_error_rates,
    verbatim_table,
)

ENGLISH_WORDS = [
    "i",
    "want",
    "the",
    "big",
    "dog",
    "um",
    "uh",
    "went",
    "to",
    "park",
    "and",
    "then",
    "we",
    "cat",
    "sat",
    "on",
    "mat",
    "a",
]
SIMPLIFIED = "我们今天去公园玩妈妈说会下雨吗好的嗯是不你他在家"


def test_dropped_repetition_is_one_deletion() -> None:
    assert error_rate("I I want a dog", "I want a dog", "en") == pytest.approx(1 / 5)


def test_substitution_counts_one_word() -> None:
    assert error_rate("the cat sat on the mat", "the cat sat on a mat", "en") == pytest.approx(
        1 / 6
    )


def test_case_and_punctuation_differences_are_identical() -> None:
    assert error_rate("Well, I want it.", "well i want it", "en") == 0.0


def test_traditional_and_simplified_are_identical_for_cantonese() -> None:
    assert error_rate("我們去公園玩", "我们去公园玩", "yue") == 0.0


def test_full_width_letters_are_identical() -> None:
    assert error_rate("我用ｉＰａｄ", "我用iPad", "cmn") == 0.0


def test_chinese_uses_character_error_rate_ignoring_spaces() -> None:
    assert error_rate("我们 去 公园", "我们去公元", "cmn") == pytest.approx(1 / 5)
    assert error_rate("我用iPad玩", "我用iPhone玩", "cmn") == pytest.approx(1 / 4)


def test_events_do_not_count_as_words_but_are_compared_apart() -> None:
    assert error_rate("I want [noise] it", "I want it", "en") == 0.0
    assert event_error_rate("I want [noise] it", "I want it", "en") == 1.0
    assert event_error_rate("[laugh] yes [noise]", "[laugh] yes [noise]", "en") == 0.0


def test_cut_off_word_differs_from_the_full_word() -> None:
    assert error_rate("the wor- word", "the word word", "en") == pytest.approx(1 / 3)


def test_empty_edge_cases() -> None:
    assert error_rate("[no-speech]", "[no-speech]", "en") == 0.0
    assert error_rate("[no-speech]", "hello there", "en") == 1.0
    assert error_rate("hello there", "[no-speech]", "en") == 1.0


def test_pairwise_rates_are_symmetric_and_take_the_stricter_direction() -> None:
    texts = ["I I want a dog", "I want a dog", "I want the cat"]
    rates = pairwise_error_rates(texts, "en")
    assert rates[0][1] == rates[1][0] == pytest.approx(1 / 4)
    assert rates[1][2] == pytest.approx(2 / 4)
    assert [rates[i][i] for i in range(3)] == [0.0, 0.0, 0.0]
    assert clip_agreement(texts, "en") == pytest.approx(max(max(row) for row in rates))
    assert clip_agreement(["only one"], "en") == 0.0


def test_alignment_keeps_jiwer_chunks() -> None:
    alignment = align("I I want a dog", "I want the dog", "en")
    assert [c.type for c in alignment.chunks] == ["equal", "delete", "equal", "substitute", "equal"]
    assert alignment.error_rate == pytest.approx(2 / 5)
    assert alignment.to_dict()["chunks"][3] == {
        "type": "substitute",
        "reference": ["a"],
        "hypothesis": ["the"],
    }
    assert align("[no-speech]", "[no-speech]", "en").chunks == ()


def test_chinese_alignment_is_by_character() -> None:
    alignment = align("我們去公園", "我们去公元", "yue")
    assert alignment.reference_tokens == ("我", "们", "去", "公", "园")
    assert [c.type for c in alignment.chunks] == ["equal", "substitute"]


def _random_words(rng: random.Random) -> list[str]:
    return [rng.choice(ENGLISH_WORDS) for _ in range(rng.randint(1, 15))]


def _mutate(rng: random.Random, items: list[str], pool: list[str]) -> list[str]:
    out = list(items)
    for _ in range(rng.randint(0, 4)):
        action = rng.choice("sid")
        position = rng.randrange(len(out) + 1)
        if action == "i" or not out:
            out.insert(position, rng.choice(pool))
        elif action == "d" and position < len(out):
            del out[position]
        elif position < len(out):
            out[position] = rng.choice(pool)
    return out or [rng.choice(pool)]


def test_fast_word_error_rate_equals_jiwer_on_random_pairs() -> None:
    rng = random.Random(7)
    for _ in range(500):
        reference = _random_words(rng)
        hypothesis = _mutate(rng, reference, ENGLISH_WORDS)
        ref_text, hyp_text = " ".join(reference), " ".join(hypothesis)
        assert error_rate(ref_text, hyp_text, "en") == pytest.approx(jiwer.wer(ref_text, hyp_text))


def test_fast_character_error_rate_equals_jiwer_on_random_pairs() -> None:
    rng = random.Random(11)
    pool = list(SIMPLIFIED)
    for _ in range(500):
        reference = [rng.choice(pool) for _ in range(rng.randint(1, 25))]
        hypothesis = _mutate(rng, reference, pool)
        ref_text, hyp_text = "".join(reference), "".join(hypothesis)
        assert error_rate(ref_text, hyp_text, "cmn") == pytest.approx(jiwer.cer(ref_text, hyp_text))


@pytest.mark.parametrize(
    ("language", "chinese"),
    [
        ("yue", True),
        ("cmn-shaanxi", True),
        ("zh-Hant", True),
        ("gan", True),
        ("hsn", True),
        ("en", False),
        ("de", False),
    ],
)
def test_is_chinese(language: str, chinese: bool) -> None:
    assert is_chinese(language) is chinese


def test_default_policy_is_looser_for_children() -> None:
    policy = load_policy(None)
    assert policy.threshold_for("en", "adult") == 0.10
    assert policy.threshold_for("cmn", "adult") == 0.08
    assert policy.threshold_for("en", "child") == 0.15
    assert policy.threshold_for("yue-hk", "child") == 0.12


def test_policy_file_overrides_per_language_and_speaker_group(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        "wer = 0.12\ncer = 0.09\n"
        "[speaker_group.child]\nwer = 0.2\n"
        '[[override]]\nlanguage = "cmn-shaanxi"\nspeaker_group = "elderly"\nthreshold = 0.14\n'
        '[[override]]\nlanguage = "yue"\nthreshold = 0.1\n',
        encoding="utf-8",
    )
    policy = load_policy(path)
    assert policy.threshold_for("en", "adult") == 0.12
    assert policy.threshold_for("cmn", "adult") == 0.09
    assert policy.threshold_for("en", "child") == 0.2
    assert policy.threshold_for("cmn", "child") == 0.09
    assert policy.threshold_for("cmn-shaanxi", "elderly") == 0.14
    assert policy.threshold_for("cmn-shaanxi", "adult") == 0.09
    assert policy.threshold_for("yue-hk", "adult") == 0.1
    assert isinstance(policy, AgreementPolicy)


def test_bad_policy_file_says_what_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("wer = 5\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="wer must be a number between 0 and 1"):
        load_policy(path)
    path.write_text("[[override]]\nthreshold = 0.1\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="needs a language"):
        load_policy(path)
    with pytest.raises(InvalidInput, match="Cannot read"):
        load_policy(tmp_path / "missing.toml")


def test_verbatim_differences_are_listed_by_kind_with_each_transcripts_count() -> None:
    texts = [
        "um we we went to the pa- park [noise]",
        "we went to the park",
        "uh we went to the park um",
    ]
    rows = [row.to_dict() for row in verbatim_table(texts, "en")]
    assert rows == [
        {"kind": "filler", "event": "uh", "counts": [0, 0, 1]},
        {"kind": "filler", "event": "um", "counts": [1, 0, 1]},
        {"kind": "repetition", "event": "we×2", "counts": [1, 0, 0]},
        {"kind": "cut_off", "event": "pa-", "counts": [1, 0, 0]},
        {"kind": "tag", "event": "[noise]", "counts": [1, 0, 0]},
    ]
    # The same events in every transcript are no difference, whatever their spelling.
    assert verbatim_table(["umm we went", "um we went"], "en") == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[escalation]\nrule = "reveiw"\n', r"escalation.rule 'reveiw'; did you mean review\?"),
        ("wre = 0.2\n", r"unknown key 'wre'; did you mean wer\?"),
        ("[speaker_group.kid]\nwer = 0.2\n", r"group 'kid'; did you mean child\?"),
        ("[speaker_group.child]\nwerr = 0.2\n", r"child: unknown key 'werr'; did you mean wer\?"),
        ('[[override]]\nlanguage = "Cantonese"\nthreshold = 0.1\n', r"mean yue \(Cantonese\)\?"),
        ('[[override]]\nlanguage = "yue"\nthreshhold = 0.1\n', r"did you mean threshold\?"),
        ("[escalation]\nreview_costs = 3\n", r"'review_costs'; did you mean review_cost\?"),
    ],
)
def test_unknown_policy_values_are_refused_with_the_closest_known_one(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput, match=message):
        load_policy(path)
