"""Transcribers' accuracy against final texts, the rolling window, and the pause below the bar."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from crowdscribe.errors import NotQualified
from crowdscribe.storage.models import GoldClip, Qualification
from review.accuracy import (
    accuracy_by_language,
    accuracy_report,
    enforce_accuracy_bar,
    error_evidence,
    should_pause,
    worst_recent_clips,
)
from review.processing import score_gold_submissions
from review.project_policies import PolicyBook
from tests import review_world as world
from tests.builders import add_person
from transcribe.dispatch.sequences import Claim
from transcribe.dispatch.sync_runner import claim_next_clip, submit_transcript
from transcribe.pricing import default_rate_card
from transcribe.users import set_qualified

TRUTH = "so we went down to the the river and um we caught three fish [laugh]"
ONE_SLIP = "so we went down to the the river and um we bought three fish [laugh]"  # 1 of 14 words
FAR_OFF = "so we went to a river and we got some fish"


def agreed_clips(database, settings, people, bob_text, count, language="en"):
    """``count`` clips transcribed by ann and cat (the truth) and bob, then decided."""
    truth = TRUTH if language == "en" else "我们昨天去了公园，天气很好。"
    for _ in range(count):
        world.add_clip(database, settings, language=language)
    world.publish(database, overlap=3)
    ann, bob, cat = people
    for _ in range(count):
        world.transcribe(database, ann, truth, language)
        world.transcribe(database, bob, bob_text, language)
        world.transcribe(database, cat, truth, language)
    assert world.decide(database).accepted == count


def trio(database, languages=("en",)):
    return [add_person(database, name, languages=languages) for name in ("ann", "bob", "cat")]


def test_error_rate_per_language_over_the_window(sqlite_database, settings) -> None:
    people = trio(sqlite_database, ("en", "yue"))
    bob = people[1]
    agreed_clips(sqlite_database, settings, people, FAR_OFF, 4)
    agreed_clips(sqlite_database, settings, people, ONE_SLIP, 4)
    agreed_clips(sqlite_database, settings, people, "我们昨天去了公园，天气很好。", 2, "yue")
    with sqlite_database.session() as session:
        everything = {
            row.language: row for row in accuracy_by_language(session, bob.person.id, window=50)
        }
        recent = {
            row.language: row for row in accuracy_by_language(session, bob.person.id, window=4)
        }
    assert everything["en"].clips == 8
    assert everything["en"].error_rate > recent["en"].error_rate
    assert abs(recent["en"].error_rate - 1 / 14) < 1e-6  # only the four one-slip clips
    assert (everything["yue"].clips, everything["yue"].error_rate) == (2, 0.0)


def test_worst_recent_clips_show_where_the_person_went_wrong(sqlite_database, settings) -> None:
    people = trio(sqlite_database)
    agreed_clips(sqlite_database, settings, people, ONE_SLIP, 1)
    agreed_clips(sqlite_database, settings, people, FAR_OFF, 1)
    with sqlite_database.session() as session:
        worst = worst_recent_clips(session, people[1].person.id, "en", window=50)
    assert [clip.scored.text for clip in worst] == [FAR_OFF, ONE_SLIP]
    slip = worst[1].alignment
    substitutions = [chunk for chunk in slip.chunks if chunk.type == "substitute"]
    assert len(substitutions) == 1
    chunk = substitutions[0]
    assert slip.reference_tokens[chunk.ref_start_idx] == "caught"
    assert slip.hypothesis_tokens[chunk.hyp_start_idx] == "bought"


def test_below_the_bar_pauses_with_a_reason_then_a_retake_starts_afresh(
    sqlite_database, settings
) -> None:
    people = trio(sqlite_database)
    bob = people[1].person
    agreed_clips(sqlite_database, settings, people, FAR_OFF, 4)
    with sqlite_database.session() as session:  # four clips: too few to judge
        assert enforce_accuracy_bar(session, [bob.id], bar=0.25, window=50) == []
    agreed_clips(sqlite_database, settings, people, FAR_OFF, 1)
    with sqlite_database.session() as session:
        pauses = enforce_accuracy_bar(
            session, [person.person.id for person in people], bar=0.25, window=50
        )
    paused = [(pause.user_id, pause.language, pause.clips) for pause in pauses]
    # Five clips at 43% each: even the low end of the 95% range (36%) is above the bar.
    assert paused == [(bob.id, "en", 5)]
    with sqlite_database.session() as session:
        row = session.scalar(select(Qualification).where(Qualification.user_id == bob.id))
        assert row.status == "paused"
        assert "above the 25% bar" in row.reason and "retake the en exam" in row.reason
        assert "with 95% confidence it is at least 36%" in row.reason
        report = {r.name: r for r in accuracy_report(session, window=50)}
    assert report["bob"].status == "paused" and report["bob"].reason == row.reason
    assert report["ann"].status == "qualified"
    # Paused people get no more work; after passing the exam again their window starts afresh.
    with pytest.raises(NotQualified):
        claim_next_clip(sqlite_database, bob.id, language="en")
    with sqlite_database.session() as session:
        set_qualified(session, bob.id, "en")
    with sqlite_database.session() as session:
        assert enforce_accuracy_bar(session, [bob.id], bar=0.25, window=50) == []
        assert accuracy_by_language(session, bob.id, window=50)[0].clips == 0


def test_gold_transcripts_count_toward_accuracy(sqlite_database, settings) -> None:
    clip_id = world.add_clip(sqlite_database, settings)
    with sqlite_database.session() as session:
        session.add(GoldClip(clip_id=clip_id, reference_text=TRUTH))
    world.publish(sqlite_database)
    dora = add_person(sqlite_database, "dora")
    claimed = claim_next_clip(sqlite_database, dora.person.id, language="en", gold_rate=1.0)
    assert isinstance(claimed, Claim) and claimed.is_gold
    with sqlite_database.session() as session:
        submit_transcript(
            session, claimed.assignment_id, dora.person.id, ONE_SLIP, "g1", datetime.now(UTC)
        )
        score_gold_submissions(
            session, policies=PolicyBook(), card=default_rate_card(), now=datetime.now(UTC)
        )
        [standing] = accuracy_by_language(session, dora.person.id, window=50)
        [worst] = worst_recent_clips(session, dora.person.id, "en", window=50)
    assert standing.clips == 1
    assert abs(standing.error_rate - 1 / 14) < 1e-6
    assert worst.scored.is_gold and worst.scored.final_text == TRUTH


def test_a_few_unlucky_clips_among_good_ones_do_not_pause() -> None:
    # The old rule paused this person: a raw 27% over ten clips is above a 25% bar.
    unlucky = [0.05, 0.02, 0.9, 0.04, 0.8, 0.03, 0.6, 0.1, 0.05, 0.11]
    evidence = error_evidence(unlucky)
    assert evidence.mean > 0.25 and evidence.low < 0.25
    assert not should_pause(evidence, bar=0.25, min_clips=5)


def test_a_spammer_is_paused_on_the_evidence_of_a_few_clips() -> None:
    evidence = error_evidence([0.9, 0.85, 1.0, 0.7, 0.95])
    assert evidence.low > 0.25
    assert should_pause(evidence, bar=0.25, min_clips=5)
    assert not should_pause(error_evidence([0.9] * 4), bar=0.25, min_clips=5)


def test_the_evidence_narrows_as_clips_accumulate() -> None:
    few, many = error_evidence([0.3] * 5), error_evidence([0.3] * 40)
    assert few.high - few.low > many.high - many.low
    assert many.low > 0.25 and few.low < 0.25


def test_gold_clips_are_counted_in_the_evidence() -> None:
    assert error_evidence([0.1, 0.2], gold_clips=1).gold_clips == 1
    assert error_evidence([]) is None
