"""The pure agreement decision: accept, one more transcription, or a dispute."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from crowdscribe.errors import InvalidInput
from crowdscribe.settings import Settings, deciding_overlap_limit
from review.agreement import AgreementPolicy, load_policy
from review.decisions import (
    ACCEPT,
    DISPUTE,
    TRANSCRIBE_MORE,
    can_still_decide,
    decide_clip,
    largest_agreeing_group,
)

POLICY = load_policy(None)

ENGLISH_TRUTH = "so we went down to the the river and um we caught three fish [laugh]"
# Realistic slips: a dropped repetition, a substitution, a missed filled pause.
DROPPED_REPETITION = "so we went down to the river and um we caught three fish [laugh]"
SUBSTITUTION = "so we went down to the the river and um we bought three fish [laugh]"
UNRELATED = "we were going to go to the river but it rained all day so we stayed in"

CHINESE_TRUTH = "我们昨天去了公园，天气很好，我们玩得很开心。"
CHINESE_TRADITIONAL = "我們昨天去了公園，天氣很好，我們玩得很開心。"
CHINESE_DIFFERENT = "他们明天要去商店买很多东西，然后回家做饭吃。"


def decide(
    texts,
    skips=(),
    *,
    language="en",
    group="adult",
    overlap=2,
    max_overlap=3,
    policy=POLICY,
    errors=None,
    script=None,
):
    return decide_clip(
        texts,
        skips,
        language=language,
        speaker_group=group,
        policy=policy,
        overlap=overlap,
        max_overlap=max_overlap,
        expected_errors=errors,
        script=script,
    )


def test_identical_transcripts_are_accepted_as_they_are() -> None:
    decision = decide([ENGLISH_TRUTH, ENGLISH_TRUTH])
    assert decision.action == ACCEPT
    assert decision.final_text == ENGLISH_TRUTH
    assert decision.agreement_error == 0.0


def test_a_dropped_repetition_is_counted_apart_and_kept_in_the_final_text() -> None:
    # Verbatim events are not hidden inside the word threshold: the words agree exactly, the
    # repetition is recorded as a verbatim difference, and the one who heard it is believed.
    for texts in ([ENGLISH_TRUTH, DROPPED_REPETITION], [DROPPED_REPETITION, ENGLISH_TRUTH]):
        decision = decide(texts)
        assert decision.action == ACCEPT
        assert decision.agreement_error == 0.0
        assert decision.verbatim_differences == ("the×2",)
        assert decision.final_text == ENGLISH_TRUTH


def test_traditional_and_simplified_characters_agree() -> None:
    decision = decide([CHINESE_TRUTH, CHINESE_TRADITIONAL], language="yue")
    assert decision.action == ACCEPT
    assert decision.agreement_error == 0.0


def test_case_and_spacing_variants_agree() -> None:
    variant = "So we went down to the the river and um  we caught three fish [laugh]"
    decision = decide([ENGLISH_TRUTH, variant])
    assert decision.action == ACCEPT
    assert decision.agreement_error == 0.0


def test_real_disagreement_asks_one_more_person_under_the_transcribe_rule() -> None:
    policy = AgreementPolicy(escalation="transcribe")
    decision = decide([ENGLISH_TRUTH, UNRELATED], overlap=2, max_overlap=3, policy=policy)
    assert decision.action == TRANSCRIBE_MORE
    assert decision.agreement_error > decision.threshold
    assert decision.final_text is None


def test_trusted_writers_far_apart_go_straight_to_review() -> None:
    # Hard audio: a third person rarely settles it, and a 2-of-3 text is worse than a review.
    decision = decide([ENGLISH_TRUTH, UNRELATED], errors=[0.03, 0.03])
    assert decision.action == DISPUTE
    assert "review costs less" in decision.reason


def test_an_unreliable_writers_gap_goes_to_one_more_person_unless_reviews_are_cheap() -> None:
    # A 2-of-3 text is about a third of a point worse than a review: at two transcriptions the
    # cheaper transcription pays; at little more than one, the review does.
    assert decide([ENGLISH_TRUTH, UNRELATED], errors=[0.03, 0.6]).action == TRANSCRIBE_MORE
    cheap = AgreementPolicy(review_cost=1.2)
    assert decide([ENGLISH_TRUTH, UNRELATED], errors=[0.03, 0.6], policy=cheap).action == (DISPUTE)


def test_trusted_writers_just_past_the_threshold_ask_one_more_person() -> None:
    # One word apart in nine: a third person most likely sides with one of them, and a 2-of-3
    # text is about a point worse than a review, worth less than the review it saves.
    close = decide([SPLIT_TRUTH, SPLIT_OTHER], errors=[0.03, 0.03])
    assert close.agreement_error > close.threshold
    assert close.action == TRANSCRIBE_MORE
    farther = decide([SPLIT_TRUTH, "we saw the big red bowl in a park"], errors=[0.03, 0.03])
    assert farther.action == DISPUTE


def test_an_untrusted_writers_gap_goes_to_review_when_the_other_writer_is_seldom_matched() -> None:
    # The next writer must land within the threshold of the one trusted text: likely for a
    # careful writer's text, a coin toss for an average writer's at the Chinese threshold.
    texts = [CHINESE_TRUTH, CHINESE_DIFFERENT]
    assert decide(texts, language="cmn", errors=[0.03, 0.6]).action == TRANSCRIBE_MORE
    assert decide(texts, language="cmn", errors=[0.10, 0.6]).action == DISPUTE


def test_writers_not_known_yet_get_one_more_person_first() -> None:
    assert decide([ENGLISH_TRUTH, UNRELATED], errors=[None, 0.03]).action == TRANSCRIBE_MORE


def test_a_dearer_review_makes_one_more_transcription_pay() -> None:
    texts = [ENGLISH_TRUTH, SUBSTITUTION.replace("three", "free").replace("so", "go")]
    cheap = decide(texts, errors=[0.02, 0.02])
    dear = decide(texts, errors=[0.02, 0.02], policy=AgreementPolicy(review_cost=6.0))
    assert (cheap.action, dear.action) == (DISPUTE, TRANSCRIBE_MORE)


def test_the_review_rule_never_asks_more_people() -> None:
    policy = AgreementPolicy(escalation="review")
    decision = decide([ENGLISH_TRUTH, UNRELATED], errors=[0.03, 0.6], policy=policy)
    assert decision.action == DISPUTE


def test_unreliable_writers_agreeing_prove_nothing() -> None:
    copied = "so we went"
    assert decide([copied, copied], errors=[0.7, 0.8]).action != ACCEPT
    assert decide([copied, copied], errors=[0.03, 0.8]).action == ACCEPT


def test_a_fourth_transcription_is_never_asked_for() -> None:
    # Three texts no two of which agree: one more can make at most a pair of four.
    three = [ENGLISH_TRUTH, UNRELATED, "completely other words here"]
    policy = AgreementPolicy(escalation="transcribe")
    assert decide(three, overlap=3, max_overlap=4, policy=policy).action == DISPUTE
    assert not can_still_decide(1, 3)
    assert can_still_decide(1, 2)
    assert can_still_decide(2, 4)


def test_many_verbatim_differences_ask_one_more_person_whose_vote_settles_them() -> None:
    heard = "um so we we went to the- the park [noise]"
    missed = "so we went to the park"
    decision = decide([heard, missed], errors=[0.03, 0.03])
    assert decision.action == TRANSCRIBE_MORE
    assert decision.verbatim_differences == ("[noise]", "the-", "um", "we×2")
    at_limit = decide([heard, missed], errors=[0.03, 0.03], overlap=3, max_overlap=3)
    assert (at_limit.action, at_limit.final_text) == (ACCEPT, heard)
    assert at_limit.to_dict()["verbatim_differences"] == ["[noise]", "the-", "um", "we×2"]


def test_the_more_accurate_writers_reading_is_the_final_text() -> None:
    texts = [SUBSTITUTION, ENGLISH_TRUTH]  # the less accurate person submitted first
    assert decide(texts, errors=[0.12, 0.02]).final_text == ENGLISH_TRUTH
    assert decide(texts, errors=[0.02, 0.12]).final_text == SUBSTITUTION


@pytest.mark.parametrize(
    ("language", "script", "expected"),
    [("yue", "hk", CHINESE_TRADITIONAL), ("cmn", "simplified", CHINESE_TRUTH)],
)
def test_chinese_final_text_is_written_in_the_projects_script(language, script, expected) -> None:
    decision = decide(
        [CHINESE_TRUTH, CHINESE_TRADITIONAL], language=language, errors=[0.05, 0.01], script=script
    )
    assert decision.final_text == expected


def test_the_third_transcript_breaks_the_tie() -> None:
    decision = decide([UNRELATED, ENGLISH_TRUTH, DROPPED_REPETITION], overlap=3)
    assert decision.action == ACCEPT
    assert decision.agreeing == (1, 2)
    assert decision.final_text in (ENGLISH_TRUTH, DROPPED_REPETITION)


def test_a_text_outside_the_agreeing_pair_still_votes_where_the_pair_splits() -> None:
    # The first two agree and split on ball/bowl; the third is too far from both to join them
    # but heard "ball", so the majority reading wins over the more trusted writer's "bowl".
    ball = "we saw a big red ball in the park with my little sister today"
    bowl = ball.replace("ball", "bowl")
    third = "we saw the big red ball in a park with my little sister"
    decision = decide([ball, bowl, third], errors=[0.05, 0.03, 0.05], overlap=3)
    assert decision.agreeing == (0, 1)
    assert (decision.action, decision.final_text) == (ACCEPT, ball)
    # Where the pair agrees, their reading stands against the third text's.
    assert "today" in decision.final_text


def test_a_vote_that_breaks_the_conventions_falls_back_within_the_agreeing_pair() -> None:
    # All three vote "[no-speech] um yes", which is no transcript; the most trusted writer's text
    # is the one the pair outvoted, so the pair's own consensus is the final text.
    decision = decide(["[no-speech]", "um yes", "yes"], errors=[0.01, 0.05, 0.05], overlap=3)
    assert decision.agreeing == (1, 2)
    assert (decision.action, decision.final_text) == (ACCEPT, "um yes")


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
    # Find a number of substitutions that only a child's threshold lets pass.
    truth = ENGLISH_TRUTH + " and then we all went home for our tea"
    words = truth.split()
    for changes in range(1, len(words)):
        edited = " ".join(
            ["x" + "abcdefghijklmnopqrstu"[n] for n in range(changes)] + words[changes:]
        )
        rate = decide([truth, edited], group="adult").agreement_error
        if adult < rate <= child:
            # at the overlap limit, so the pair is not sent to a third person to settle its words
            assert decide([truth, edited], group="child", max_overlap=2).action == ACCEPT
            assert decide([truth, edited], group="adult").action != ACCEPT
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


def test_the_escalation_rule_is_read_from_the_policy_file(tmp_path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        '[escalation]\nrule = "review"\nreview_cost = 3\nmax_verbatim_differences = 0\n'
    )
    policy = load_policy(path)
    assert (policy.escalation, policy.review_cost, policy.max_verbatim_differences) == (
        "review",
        3.0,
        0,
    )
    path.write_text('[escalation]\nrule = "vote"\n')
    with pytest.raises(InvalidInput, match="escalation.rule"):
        load_policy(path)


@pytest.mark.parametrize(("default", "largest"), [(1, 3), (2, 3), (3, 3), (4, 5)])
def test_overlap_limits_that_can_never_decide_are_refused(default, largest) -> None:
    assert deciding_overlap_limit(default) == largest
    Settings(default_overlap=default, max_overlap=largest)
    with pytest.raises(ValidationError, match=f"MAX_OVERLAP={largest + 1}"):
        Settings(default_overlap=default, max_overlap=largest + 1)


def test_an_overlap_limit_of_one_is_refused_as_no_two_texts_could_agree(monkeypatch) -> None:
    with pytest.raises(ValidationError, match="MAX_OVERLAP=1 cannot work"):
        Settings(default_overlap=1, max_overlap=1)
    Settings(default_overlap=1, max_overlap=2)


def test_max_overlap_four_is_refused_when_read_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("CROWDSCRIBE_MAX_OVERLAP", "4")
    with pytest.raises(ValidationError, match="can never change the outcome"):
        Settings()


SPLIT_TRUTH = "we saw a big red ball in the park"
SPLIT_OTHER = "we saw a big red bowl in the park"  # one word heard two ways


def test_two_agreeing_texts_split_on_a_word_ask_a_third_person_to_settle_it() -> None:
    # Equally trusted writers: the vote on "ball"/"bowl" is a coin toss worth more than a text.
    decision = decide([SPLIT_TRUTH, SPLIT_OTHER], group="child", errors=[0.03, 0.03])
    assert decision.action == TRANSCRIBE_MORE
    assert "neither reading is sure" in decision.reason
    # The third text settles it by majority.
    settled = decide(
        [SPLIT_TRUTH, SPLIT_OTHER, SPLIT_TRUTH],
        group="child",
        errors=[0.03, 0.03, 0.03],
        overlap=3,
    )
    assert (settled.action, settled.final_text) == (ACCEPT, SPLIT_TRUTH)


def test_a_split_is_accepted_when_one_reading_is_sure_or_no_one_more_may_be_asked() -> None:
    # A far more accurate writer's reading is all but certain: no third person is paid for.
    sure = decide([SPLIT_OTHER, SPLIT_TRUTH], group="child", errors=[0.15, 0.005])
    assert (sure.action, sure.final_text) == (ACCEPT, SPLIT_TRUTH)
    at_limit = decide([SPLIT_TRUTH, SPLIT_OTHER], group="child", errors=[0.03, 0.03], overlap=3)
    assert at_limit.action == ACCEPT
    review_rule = AgreementPolicy(escalation="review")
    assert (
        decide(
            [SPLIT_TRUTH, SPLIT_OTHER], group="child", errors=[0.03, 0.03], policy=review_rule
        ).action
        == ACCEPT
    )
    # Cheap error makes the third transcription poor value.
    cheap = AgreementPolicy(error_price=10.0)
    assert (
        decide([SPLIT_TRUTH, SPLIT_OTHER], group="child", errors=[0.03, 0.03], policy=cheap).action
        == ACCEPT
    )


def test_a_word_one_writer_left_out_is_kept_without_asking_more() -> None:
    # People leave short words out far more often than they add them.
    dropped = "we saw big red ball in the park"
    decision = decide([dropped, SPLIT_TRUTH], group="child", errors=[0.03, 0.03])
    assert (decision.action, decision.final_text) == (ACCEPT, SPLIT_TRUTH)


def test_one_transcript_from_a_trusted_writer_is_enough_under_adaptive_overlap() -> None:
    alone = decide([SPLIT_TRUTH], overlap=1, errors=[0.01])
    assert (alone.action, alone.method, alone.final_text) == (ACCEPT, "single", SPLIT_TRUTH)
    # An ordinary writer, or one nobody has measured yet, gets a second transcription.
    assert decide([SPLIT_TRUTH], overlap=1, errors=[0.05]).action == TRANSCRIBE_MORE
    assert decide([SPLIT_TRUTH], overlap=1, errors=[None]).action == TRANSCRIBE_MORE
    review_rule = AgreementPolicy(escalation="review")
    assert decide([SPLIT_TRUTH], overlap=1, errors=[0.01], policy=review_rule).action != ACCEPT


def test_a_lone_chinese_transcript_is_stored_in_the_projects_script() -> None:
    decision = decide(
        ["我們今天去公園"], language="yue", overlap=1, errors=[0.01], script="simplified"
    )
    assert decision.final_text == "我们今天去公园"
