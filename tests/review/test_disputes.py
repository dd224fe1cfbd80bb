"""Reviewing disputes: the queue, one dispute side by side, and resolving it once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crowdscribe.errors import Conflict, ConventionError, Forbidden, InvalidInput
from crowdscribe.storage.models import Dispute, LedgerEntry, Submission
from review.disputes import dispute_detail, dispute_queue, resolve_dispute
from tests import review_world as world
from tests.builders import add_person

TEXTS = (
    "so we went down to the the river and um we caught three fish [laugh]",
    "we were going to go to the river but it rained all day so we stayed in",
    "the weather was nice [noise]",
)
FINAL = "so we went down to the the river and um we caught three fish [laugh]"


def disputed_clip(database, settings, *, language="en", project="river", names=("a", "b", "c")):
    """A clip whose three transcripts all disagree, now an open dispute; returns its id."""
    clip_id = world.add_clip(database, settings, language=language, project=project)
    world.publish(database, project=project)
    people = [
        add_person(database, f"{name}-{clip_id[:6]}", languages=(language,)) for name in names
    ]
    for person, text in zip(people[:2], TEXTS, strict=False):
        world.transcribe(database, person, text, language)
    world.decide(database)
    world.transcribe(database, people[2], TEXTS[2], language)
    world.decide(database)
    with database.session() as session:
        return session.scalar(select(Dispute.id).where(Dispute.clip_id == clip_id))


@pytest.fixture
def reviewer(sqlite_database):
    return add_person(sqlite_database, "rita", languages=("en", "yue"), roles=("reviewer",))


def ledger(database, clip_id):
    with database.session() as session:
        return dict(
            session.execute(
                select(Submission.text, LedgerEntry.state)
                .join(LedgerEntry, LedgerEntry.submission_id == Submission.id)
                .where(Submission.clip_id == clip_id)
            ).all()
        )


def test_queue_filters_by_language_project_and_age(sqlite_database, settings) -> None:
    english = disputed_clip(sqlite_database, settings)
    cantonese = disputed_clip(sqlite_database, settings, language="yue", project="harbour")
    with sqlite_database.session() as session:
        assert [d.id for d in dispute_queue(session)] == [english, cantonese]
        assert [d.id for d in dispute_queue(session, language="yue")] == [cantonese]
        assert [d.id for d in dispute_queue(session, project="river")] == [english]
        later = datetime.now(UTC) + timedelta(hours=2)
        assert len(dispute_queue(session, min_age_s=3600, now=later)) == 2
        assert dispute_queue(session, min_age_s=3600) == []


def test_detail_aligns_the_transcripts_with_track_records(sqlite_database, settings) -> None:
    dispute_id = disputed_clip(sqlite_database, settings)
    with sqlite_database.session() as session:
        detail = dispute_detail(session, dispute_id)
    assert [view.text for view in detail.transcripts] == list(TEXTS)
    assert [view.number for view in detail.transcripts] == [1, 2, 3]
    columns = detail.alignment.columns
    for index, text in enumerate(TEXTS):  # each transcript reads back from its row
        assert [c.tokens[index] for c in columns if c.tokens[index]] == text.split()
    assert sum(not column.agrees for column in columns) >= len(TEXTS[0].split()) // 2
    assert all(view.track_clips == 0 for view in detail.transcripts)


def test_accepting_a_transcript_resolves_and_settles(sqlite_database, settings, reviewer) -> None:
    dispute_id = disputed_clip(sqlite_database, settings)
    with sqlite_database.session() as session:
        first = dispute_detail(session, dispute_id).transcripts[0]
        result = resolve_dispute(
            session, dispute_id, reviewer.person.id, accept_submission_id=first.submission_id
        )
    clip = world.clip_row(sqlite_database, result.clip_id)
    assert (clip.status, clip.final_text, clip.decision) == ("resolved", FINAL, "review:accepted")
    assert ledger(sqlite_database, clip.id) == {
        TEXTS[0]: "credited",
        TEXTS[1]: "discounted",
        TEXTS[2]: "discounted",
    }
    assert [accepted for _, _, accepted in result.scored] == [True, False, False]


def test_an_edited_final_text_is_checked_against_the_conventions(
    sqlite_database, settings, reviewer
) -> None:
    dispute_id = disputed_clip(sqlite_database, settings)
    with sqlite_database.session() as session, pytest.raises(ConventionError) as refused:
        resolve_dispute(session, dispute_id, reviewer.person.id, final_text="we went [lauhg] home")
    assert refused.value.problems
    edited = "so we went down to the the river and we caught three fish [laugh]"
    with sqlite_database.session() as session:
        result = resolve_dispute(session, dispute_id, reviewer.person.id, final_text=edited)
    assert result.resolution == "edited"
    assert world.clip_row(sqlite_database, result.clip_id).final_text == edited
    assert ledger(sqlite_database, result.clip_id)[TEXTS[0]] == "credited"


def test_unusable_needs_a_reason_and_pays_everyone(sqlite_database, settings, reviewer) -> None:
    dispute_id = disputed_clip(sqlite_database, settings)
    with sqlite_database.session() as session, pytest.raises(InvalidInput):
        resolve_dispute(session, dispute_id, reviewer.person.id, unusable=True)
    with sqlite_database.session() as session:
        result = resolve_dispute(
            session, dispute_id, reviewer.person.id, unusable=True, reason_code="crosstalk"
        )
    clip = world.clip_row(sqlite_database, result.clip_id)
    assert (clip.status, clip.final_text, clip.decision) == ("unusable", None, "unusable:crosstalk")
    assert set(ledger(sqlite_database, clip.id).values()) == {"credited"}


def test_a_dispute_is_resolved_only_once(sqlite_database, settings, reviewer) -> None:
    dispute_id = disputed_clip(sqlite_database, settings)
    with sqlite_database.session() as session:
        resolve_dispute(session, dispute_id, reviewer.person.id, final_text=FINAL)
    with sqlite_database.session() as session, pytest.raises(Conflict, match="already resolved"):
        resolve_dispute(session, dispute_id, reviewer.person.id, unusable=True, reason_code="other")
    clip_id = _clip_of(sqlite_database, dispute_id)
    assert world.clip_row(sqlite_database, clip_id).final_text == FINAL


def test_only_reviewers_who_did_not_transcribe_it_may_resolve(sqlite_database, settings) -> None:
    dispute_id = disputed_clip(sqlite_database, settings)
    transcriber = add_person(sqlite_database, "tom")
    with sqlite_database.session() as session, pytest.raises(Forbidden):
        resolve_dispute(session, dispute_id, transcriber.person.id, final_text=FINAL)
    with sqlite_database.session() as session:
        author = dispute_detail(session, dispute_id).transcripts[0].user_id
        from crowdscribe.storage.models import User

        session.get(User, author).roles = "transcriber,reviewer"
    with sqlite_database.session() as session, pytest.raises(Forbidden, match="yourself"):
        resolve_dispute(session, dispute_id, author, final_text=FINAL)


def _clip_of(database, dispute_id):
    with database.session() as session:
        return session.get(Dispute, dispute_id).clip_id
