"""The qualification exam and gold references, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crowdscribe.errors import Conflict, ConventionError, Forbidden, InvalidInput
from crowdscribe.settings import Settings
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import ExamAnswer, GoldClip
from review.exam import (
    answer_exam,
    exam_clip_path,
    exam_result,
    finish_exam,
    hide_reference,
    start_exam,
)
from review.gold import add_gold, import_gold_csv
from tests.builders import T0, add_clips, add_person
from transcribe.dispatch.holding import held_clip_path
from transcribe.users import pause_language, qualified_languages

REFERENCES = [
    "the cat sat on the mat",
    "we went to the market",
    "[noise] it was raining all day",
    "she said um maybe tomorrow",
    "the dog ran after the ball",
    "my brother likes green apples",
]


@pytest.fixture
def exam_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"exam_clips": 3, "exam_cooldown_s": 3600.0})


def _gold(database: Database, count: int = 6):
    with database.session() as session:
        clips = add_clips(session, count, prefix="gold")
        for clip_id, text in zip(clips, REFERENCES, strict=False):
            add_gold(session, clip_id, text)
        ann = add_person(session, "ann", languages=("en",), qualified=()).person
    return clips, ann


def _take(database, ann, settings, answers_for, at=T0):
    with database.session() as session:
        paper = start_exam(session, ann.id, "en", settings=settings, now=at)
        references = {row.clip_id: row.reference_text for row in session.scalars(select(GoldClip))}
        for clip in paper.clips:
            answer_exam(
                session,
                ann.id,
                paper.attempt_id,
                clip.clip_id,
                answers_for(references[clip.clip_id]),
            )
        return finish_exam(session, ann.id, paper.attempt_id, at, settings.exam_cooldown_s)


def test_a_good_exam_qualifies_the_person(database: Database, exam_settings) -> None:
    _, ann = _gold(database)
    result = _take(database, ann, exam_settings, lambda reference: reference)
    assert result.passed and result.error_rate == 0.0 and result.retake_at is None
    assert len(result.answers) == 3
    with database.session() as session:
        assert qualified_languages(session, ann.id) == ["en"]
        assert session.scalar(select(func.count()).select_from(ExamAnswer)) == 3


def test_a_poor_exam_fails_shows_each_mistake_and_waits_for_a_retake(
    database: Database, exam_settings
) -> None:
    _, ann = _gold(database)
    result = _take(database, ann, exam_settings, lambda ref: ref.replace("the", "a") + " extra")
    assert not result.passed and result.error_rate >= 0.15
    assert result.retake_at == T0 + timedelta(hours=1)
    kinds = {chunk.type for answer in result.answers for chunk in answer.alignment.chunks}
    assert "insert" in kinds
    with database.session() as session:
        assert qualified_languages(session, ann.id) == []
        again = exam_result(session, ann.id, result.attempt_id)
        assert again.error_rate == pytest.approx(result.error_rate)
    with pytest.raises(Conflict, match="retake the en exam from"):
        _take(database, ann, exam_settings, lambda ref: ref, at=T0 + timedelta(minutes=30))
    assert _take(database, ann, exam_settings, lambda ref: ref, at=T0 + timedelta(hours=2)).passed


def test_overall_rate_pools_edits_over_all_reference_words(database: Database, settings) -> None:
    with database.session() as session:
        clips = add_clips(session, 2, prefix="gold")
        add_gold(session, clips[0], "one two three four five six seven eight nine ten")
        add_gold(session, clips[1], "hello")
        ann = add_person(session, "ann", languages=("en",), qualified=()).person
    two = settings.model_copy(update={"exam_clips": 2})
    # One wrong word of eleven: 0.09 pooled (the mean of 0.0 and 1.0 would be 0.5).
    result = _take(database, ann, two, lambda ref: "goodbye" if ref == "hello" else ref)
    assert result.error_rate == pytest.approx(1 / 11)
    assert result.passed


def test_passing_the_exam_clears_a_pause(database: Database, exam_settings) -> None:
    _, ann = _gold(database)
    with database.session() as session:
        pause_language(session, ann.id, "en", "accuracy fell below the bar")
    assert _take(database, ann, exam_settings, lambda ref: ref).passed
    with database.session() as session:
        assert qualified_languages(session, ann.id) == ["en"]


def test_too_few_gold_clips_is_refused_with_the_count(database: Database, settings) -> None:
    _, ann = _gold(database, count=2)
    refusal = pytest.raises(Conflict, match="needs 5 gold clips and only 2 exist")
    with refusal, database.session() as session:
        start_exam(session, ann.id, "en", settings=settings, now=T0)


def test_exam_audio_only_for_clips_of_the_open_exam(database: Database, exam_settings) -> None:
    clips, ann = _gold(database)
    with database.session() as session:
        paper = start_exam(session, ann.id, "en", settings=exam_settings, now=T0)
        mine = paper.clips[0].clip_id
        other = next(clip for clip in clips if clip not in {c.clip_id for c in paper.clips})
        assert exam_clip_path(session, ann.id, paper.attempt_id, mine) == f"clips/{mine}.flac"
        assert held_clip_path(session, ann.id, mine) == f"clips/{mine}.flac"
        with pytest.raises(Forbidden):
            exam_clip_path(session, ann.id, paper.attempt_id, other)
        with pytest.raises(InvalidInput, match="Answer every clip"):
            finish_exam(session, ann.id, paper.attempt_id, T0)
        with pytest.raises(ConventionError):
            answer_exam(session, ann.id, paper.attempt_id, mine, "the cat [nosie]")


def test_gold_import_is_all_or_nothing_with_errors_per_line(
    database: Database, tmp_path: Path
) -> None:
    with database.session() as session:
        clips = add_clips(session, 3)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"clip_id,text\n{clips[0]},hello world\nmissing-clip,hi\n{clips[1]},a [nosie] b\n"
    )
    with pytest.raises(InvalidInput) as refused, database.session() as session:
        import_gold_csv(session, bad)
    assert "line 3: there is no clip missing-clip" in refused.value.message
    assert f"line 4: clip {clips[1]}" in refused.value.message
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(GoldClip)) == 0
    good = tmp_path / "good.csv"
    good.write_text(f'clip_id,text\n{clips[0]},hello   world\n{clips[1]},"yes, [laugh] no"\n')
    with database.session() as session:
        assert import_gold_csv(session, good) == 2
    with database.session() as session:
        assert session.get(GoldClip, clips[0]).reference_text == "hello world"


def test_a_retake_draws_clips_the_person_has_not_seen(database: Database, exam_settings) -> None:
    _, ann = _gold(database)
    failed = _take(database, ann, exam_settings, lambda ref: "no idea")
    retake = _take(database, ann, exam_settings, lambda ref: ref, at=T0 + timedelta(hours=2))
    first = {answer.clip_id for answer in failed.answers}
    second = {answer.clip_id for answer in retake.answers}
    assert retake.passed and len(first) == len(second) == 3 and not first & second


def test_a_retake_is_refused_when_every_clip_was_seen(database: Database, exam_settings) -> None:
    _, ann = _gold(database, count=5)
    _take(database, ann, exam_settings, lambda ref: "no idea")
    with pytest.raises(Conflict, match="already seen every en exam clip"):
        _take(database, ann, exam_settings, lambda ref: ref, at=T0 + timedelta(hours=2))


def test_no_exam_in_a_language_the_person_is_not_assigned(database: Database, settings) -> None:
    _gold(database)
    with database.session() as session:
        bea = add_person(session, "bea", languages=("yue",), qualified=()).person
    with pytest.raises(Forbidden, match="not assigned to work in en"), database.session() as s:
        start_exam(s, bea.id, "en", settings=settings, now=T0)


def test_results_never_show_the_reference_words() -> None:
    chunks = [
        {"type": "equal", "reference": ["the"], "hypothesis": ["the"]},
        {"type": "substitute", "reference": ["cat"], "hypothesis": ["hat"]},
        {"type": "delete", "reference": ["sat", "on"], "hypothesis": []},
        {"type": "insert", "reference": [], "hypothesis": ["um"]},
    ]
    hidden = hide_reference(chunks)
    shown = {
        word for chunk in hidden for side in ("reference", "hypothesis") for word in chunk[side]
    }
    assert not shown & {"cat", "sat", "on"}
    assert [chunk["hypothesis"] for chunk in hidden] == [["the"], ["hat"], [], ["um"]]
    assert [len(chunk["reference"]) for chunk in hidden] == [1, 1, 2, 0]
