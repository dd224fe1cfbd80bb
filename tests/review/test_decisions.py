"""The pure agreement decision: accept, one more transcription, or a dispute."""

from __future__ import annotations

import pytest

from review.agreement import load_policy
from review.decisions import ACCEPT, DISPUTE, TRANSCRIBE_MORE, decide_clip, largest_agreeing_group

POLICY = load_policy(None)

ENGLISH_TRUTH = "so we went down to the the river and um we caught three fish [laugh]"
# Realistic slips: a dropped repetition, a substitution, a missed filled pause.
DROPPED_REPETITION = "so we went down to the river and um we caught three fish [laugh]"
SUBSTITUTION = "so we went down to the the river and um we bought three fish [laugh]"
UNRELATED = "we were going to go to the river but it rained all day so we stayed in"

CHINESE_TRUTH = "我们昨天去了公园，天气很好，我们玩得很开心。"
CHINESE_TRADITIONAL = "我們昨天去了公園，天氣很好，我們玩得很開心。"
CHINESE_DIFFERENT = "他们明天要去商店买很多东西，然后回家做饭吃。"


def decide(texts, skips=(), *, language="en", group="adult", overlap=2, max_overlap=3):
    return decide_clip(
        texts,
        skips,
        language=language,
        speaker_group=group,
        policy=POLICY,
        overlap=overlap,
        max_overlap=max_overlap,
    )


def test_identical_transcripts_are_accepted_as_they_are() -> None:
    decision = decide([ENGLISH_TRUTH, ENGLISH_TRUTH])
    assert decision.action == ACCEPT
    assert decision.final_text == ENGLISH_TRUTH
    assert decision.agreement_error == 0.0


def test_a_dropped_repetition_is_within_the_threshold() -> None:
    decision = decide([ENGLISH_TRUTH, DROPPED_REPETITION])
    assert decision.action == ACCEPT
    assert 0 < decision.agreement_error <= decision.threshold
    assert decision.final_text in (ENGLISH_TRUTH, DROPPED_REPETITION)


def test_traditional_and_simplified_characters_agree() -> None:
    decision = decide([CHINESE_TRUTH, CHINESE_TRADITIONAL], language="yue")
    assert decision.action == ACCEPT
    assert decision.agreement_error == 0.0


def test_case_and_spacing_variants_agree() -> None:
    variant = "So we went down to the the river and um  we caught three fish [laugh]"
    decision = decide([ENGLISH_TRUTH, variant])
    assert decision.action == ACCEPT
    assert decision.agreement_error == 0.0


def test_real_disagreement_first_asks_one_more_person() -> None:
    decision = decide([ENGLISH_TRUTH, UNRELATED], overlap=2, max_overlap=3)
    assert decision.action == TRANSCRIBE_MORE
    assert decision.agreement_error > decision.threshold
    assert decision.final_text is None


def test_the_third_transcript_breaks_the_tie() -> None:
    decision = decide([UNRELATED, ENGLISH_TRUTH, DROPPED_REPETITION], overlap=3)
    assert decision.action == ACCEPT
    assert decision.agreeing == (1, 2)
    assert decision.final_text in (ENGLISH_TRUTH, DROPPED_REPETITION)


def test_majority_of_three_gives_the_majority_text() -> None:
    decision = decide([ENGLISH_TRUTH, SUBSTITUTION, ENGLISH_TRUTH], overlap=3)
    assert decision.action == ACCEPT
    assert decision.final_text == ENGLISH_TRUTH


def test_disagreement_at_the_overlap_limit_goes_to_a_reviewer() -> None:
    decision = decide([ENGLISH_TRUTH, UNRELATED, "completely other words here"], overlap=3)
    assert decision.action == DISPUTE
    assert decision.dispute_kind == "disagreement"


def test_chinese_disagreement_is_measured_by_characters() -> None:
    decision = decide([CHINESE_TRUTH, CHINESE_DIFFERENT], language="cmn", overlap=3)
    assert decision.action == DISPUTE
    assert decision.agreement_error > 0.5


def test_two_bad_audio_skips_make_a_bad_audio_dispute() -> None:
    decision = decide([ENGLISH_TRUTH], ["bad_audio", "bad_audio"])
    assert decision.action == DISPUTE
    assert decision.dispute_kind == "bad_audio"


def test_one_bad_audio_skip_does_not_stop_agreement() -> None:
    decision = decide([ENGLISH_TRUTH, ENGLISH_TRUTH], ["bad_audio", "wrong_language"])
    assert decision.action == ACCEPT


def test_children_get_the_looser_threshold() -> None:
    adult = POLICY.threshold_for("en", "adult")
    child = POLICY.threshold_for("en", "child")
    assert child > adult
    # One substitution in 15 words is 0.067 for either group; find a gap that only a child passes.
    words = ENGLISH_TRUTH.split()
    for changes in range(1, len(words)):
        edited = " ".join(["x"] * changes + words[changes:])
        rate = decide([ENGLISH_TRUTH, edited], group="adult").agreement_error
        if adult < rate <= child:
            assert decide([ENGLISH_TRUTH, edited], group="child").action == ACCEPT
            assert decide([ENGLISH_TRUTH, edited], group="adult").action == TRANSCRIBE_MORE
            return
    pytest.fail("no edit falls between the adult and child thresholds")


@pytest.mark.parametrize(
    ("rates", "expected"),
    [
        ([[0, 0.5, 0.02], [0.5, 0, 0.6], [0.02, 0.6, 0]], (0, 2)),
        ([[0, 0.5], [0.5, 0]], ()),
        ([[0, 0.01, 0.05], [0.01, 0, 0.04], [0.05, 0.04, 0]], (0, 1, 2)),
    ],
)
def test_largest_agreeing_group(rates, expected) -> None:
    assert largest_agreeing_group(rates, 0.1) == expected
