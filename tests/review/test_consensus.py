"""Final texts from several transcripts: identical, medoid, ROVER; and the reviewer's columns."""

from __future__ import annotations

import pytest

from review.consensus import align_many, contested_share, decide_consensus, join_tokens
from review.rover import Arc, build_network, vote
from transcribe.conventions import validate_transcript


def arcs(text: str) -> list[Arc]:
    return [Arc(word, word) for word in text.split()]


def test_identical_after_normalisation_returns_the_first_text_as_written() -> None:
    result = decide_consensus(["Well, I want it.", "well i want it", "WELL I WANT IT"], "en")
    assert (result.text, result.method, result.agreement_error) == (
        "Well, I want it.",
        "identical",
        0.0,
    )


def test_traditional_and_simplified_are_identical() -> None:
    result = decide_consensus(["我們去公園玩。", "我们去公园玩"], "yue")
    assert (result.text, result.method) == ("我們去公園玩。", "identical")


def test_two_transcripts_keep_the_repetition_one_of_them_heard_whichever_came_first() -> None:
    # Verbatim is the product: dropping a repetition is the common mistake, inventing one rare.
    for texts in (["I I want a dog", "I want a dog"], ["I want a dog", "I I want a dog"]):
        result = decide_consensus(texts, "en")
        assert (result.text, result.method) == ("I I want a dog", "rover")
        assert result.agreement_error == pytest.approx(0.25)


def test_two_transcripts_differing_in_a_word_take_the_more_accurate_persons_reading() -> None:
    texts = ["the dog wants a ball", "the dog want a bowl"]
    assert decide_consensus(texts, "en", [0.02, 0.15]).text == "the dog wants a ball"
    assert decide_consensus(texts, "en", [0.15, 0.02]).text == "the dog want a bowl"


def test_the_same_text_is_given_as_the_most_accurate_person_wrote_it() -> None:
    result = decide_consensus(["we want it", "We want it."], "en", [0.2, 0.01])
    assert (result.text, result.method) == ("We want it.", "identical")


def test_a_filler_heard_by_a_careful_person_is_kept_against_a_careless_one() -> None:
    texts = ["so um we went home", "so we went home"]
    assert decide_consensus(texts, "en", [0.03, 0.03]).text == "so um we went home"
    assert decide_consensus(texts, "en", [0.45, 0.01]).text == "so we went home"


def test_two_ordinary_writers_outvote_one_good_one_but_not_a_far_better_one() -> None:
    texts = ["the cat sat down", "the cap sat down", "the cap sat down"]
    assert decide_consensus(texts, "en", [0.03, 0.10, 0.10]).text == "the cap sat down"
    assert decide_consensus(texts, "en", [0.005, 0.3, 0.3]).text == "the cat sat down"


def test_medoid_is_the_transcript_closest_to_the_others() -> None:
    # ROVER reproduces the middle transcript here, so the result is that person's text.
    texts = ["the big dog ran home", "the big dog ran home now", "a big dog ran home now"]
    result = decide_consensus(texts, "en")
    assert result.text == "the big dog ran home now"


def test_rover_recovers_the_reference_when_each_transcript_has_one_different_error() -> None:
    # Fiscus (1997): errors made by one system are outvoted by the others in each slot.
    texts = ["a x c d e", "a b y d e", "a b c z e"]
    result = decide_consensus(texts, "en")
    assert (result.text, result.method) == ("a b c d e", "rover")


def test_rover_votes_null_arcs_for_deletions_and_insertions() -> None:
    texts = [
        "so we went to park",  # drops "the"
        "so we went to the big park",  # inserts a word
        "so he went to the park",  # substitutes
    ]
    assert decide_consensus(texts, "en").text == "so we went to the park"


def test_rover_keeps_a_repetition_most_people_heard_and_a_tag_one_heard() -> None:
    texts = ["I I want the dog", "I want the dog", "I I want a dog [noise]"]
    assert decide_consensus(texts, "en").text == "I I want the dog [noise]"


def test_rover_output_keeps_original_casing_tags_and_guesses() -> None:
    texts = ["Then Mary said um ((hello))", "then Mary sad um ((hello))", "Then mary said um hello"]
    result = decide_consensus(texts, "en")
    assert result.text == "Then Mary said um ((hello))"
    assert result.method == "rover"


def test_rover_on_chinese_characters_with_a_latin_word() -> None:
    texts = ["我们去公园玩iPad", "我們去公元玩 iPad", "我们去公园完 ipad"]
    result = decide_consensus(texts, "cmn")
    assert result.text == "我们去公园玩iPad"


def test_rover_builds_a_new_text_when_nobody_wrote_it_whole() -> None:
    texts = ["yes I I want the red one", "yes I want the red one [noise]", "yes I I want a red one"]
    result = decide_consensus(texts, "en")
    assert (result.text, result.method) == ("yes I I want the red one [noise]", "rover")
    texts = ["and the Cat sat", "and a cat sat down", "the cat sat down"]
    result = decide_consensus(texts, "en")
    assert (result.text, result.method) == ("and the cat sat down", "rover")
    assert validate_transcript(result.text, "en") == []


def test_rover_output_that_breaks_the_conventions_falls_back_to_the_medoid() -> None:
    # Slot by slot the vote gives "[no-speech] yes", which is not a valid transcript.
    result = decide_consensus(["[no-speech]", "oh yes", "yes"], "en")
    assert (result.text, result.method) == ("[no-speech]", "medoid")


def test_word_transition_network_has_one_arc_per_transcript_in_every_slot() -> None:
    network = build_network([arcs("a b c"), arcs("a c"), arcs("a b c d")])
    assert [[arc.key for arc in slot] for slot in network] == [
        ["a", "a", "a"],
        ["b", "", "b"],
        ["c", "c", "c"],
        ["", "", "d"],
    ]
    assert [arc.key for arc in vote(network)] == ["a", "b", "c"]


def test_vote_ties_go_to_the_earliest_transcript() -> None:
    network = build_network([arcs("a b"), arcs("a c"), arcs("a d")])
    assert [arc.key for arc in vote(network)] == ["a", "b"]


def test_join_tokens_runs_chinese_characters_together() -> None:
    tokens = ["我", "用", "iPad", "玩", "公-", "园", "[laugh]"]
    assert join_tokens(tokens) == "我用 iPad 玩公-园 [laugh]"


def test_align_many_gives_columns_with_agreement_flags() -> None:
    alignment = align_many(["I I want the dog", "I want the dog", "i want a dog [noise]"], "en")
    columns = [(c.tokens, c.agrees) for c in alignment.columns]
    assert columns == [
        (("I", "I", "i"), True),
        (("I", "", ""), False),
        (("want", "want", "want"), True),
        (("the", "the", "a"), False),
        (("dog", "dog", "dog"), True),
        (("", "", "[noise]"), False),
    ]
    assert alignment.to_dict()["columns"][3] == {"tokens": ["the", "the", "a"], "agrees": False}


def test_align_many_for_chinese_is_by_character() -> None:
    alignment = align_many(["我們去公園", "我们去公元"], "yue")
    assert [c.agrees for c in alignment.columns] == [True, True, True, True, False]
    assert alignment.columns[4].tokens == ("園", "元")


def test_two_equally_trusted_readings_of_a_word_are_a_coin_toss() -> None:
    texts = ["we saw a red ball", "we saw a red bowl"]
    # One contested word in five, won by a margin of nothing: wrong half the time.
    assert contested_share(texts, "en", [0.03, 0.03]) == pytest.approx(0.5 / 5)
    # A far better writer's reading is rarely wrong.
    assert contested_share(texts, "en", [0.005, 0.2]) < 0.01
    assert contested_share(["we saw a red ball"] * 2, "en", [0.03, 0.03]) == 0.0


def test_a_filler_one_writer_heard_is_not_counted_as_a_contested_word() -> None:
    texts = ["um we saw a red ball", "we saw a red ball"]
    assert contested_share(texts, "en", [0.03, 0.03]) == 0.0
    assert contested_share(texts, "en", [0.03, 0.03], words_only=False) > 0.0


def test_a_word_one_person_left_out_is_kept_in_a_two_way_vote() -> None:
    texts = ["we saw red ball", "we saw a red ball"]
    assert decide_consensus(texts, "en", [0.03, 0.03]).text == "we saw a red ball"
    # Two who left it out outvote one who wrote it.
    three = ["we saw red ball", "we saw red ball", "we saw a red ball"]
    assert decide_consensus(three, "en", [0.03, 0.03, 0.03]).text == "we saw red ball"
