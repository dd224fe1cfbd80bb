"""The dispatch queue on SQLite and PostgreSQL: publishing, fair claims, leases, submissions."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crowdscribe.errors import (
    Conflict,
    ConventionError,
    Forbidden,
    InvalidInput,
    LeaseExpired,
    NotFound,
    NotQualified,
)
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import (
    Assignment,
    Clip,
    ExamAttempt,
    GoldClip,
    LedgerEntry,
    Submission,
    WorkItem,
)
from tests.builders import T0, add_clips, add_person
from tests.transcribe.queue_paths import queue_for
from transcribe.dispatch.holding import held_clip_path, renew_lease, skip_assignment
from transcribe.dispatch.sequences import Claim, NoWork
from transcribe.dispatch.sync_runner import claim_next_clip, submit_transcript
from transcribe.pricing import default_rate_card, price_clip
from transcribe.publishing import add_slot, publish_clips
from transcribe.users import pause_language

CARD = default_rate_card()
LEASE_S = 600


def publish(database: Database, overlap: int = 2, project: str | None = None):
    with database.session() as session:
        return publish_clips(session, project=project, overlap=overlap, card=CARD, now=T0)


@pytest.fixture
def database(queue_database: Database) -> Database:
    return queue_database


def claim(database: Database, person, at=T0, **options) -> Claim | NoWork:
    return queue_for(database).claim(person.id, now=at, lease_s=LEASE_S, **options)


def submit(database: Database, person, held: Claim, text="hello world", request_id=None, at=T0):
    return queue_for(database).submit(
        held.assignment_id, person.id, text, request_id or held.assignment_id, at
    )


def test_publishing_prices_clips_and_opens_overlap_slots(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 3, language="en", duration_s=4.5)
        yue = add_clips(session, 2, language="yue", project="other", duration_s=30.0)
        session.add(GoldClip(clip_id=yue[0], reference_text="你好"))
    summary = publish(database, overlap=2)
    assert (summary.published, summary.slots, summary.gold_kept_back) == (4, 8, 1)
    assert summary.by_language == {"en": 3, "yue": 1}
    with database.session() as session:
        gold = session.get(Clip, yue[0])
        assert gold.status == "collected"  # kept back from work, but priced for gold mixing
        assert Decimal(gold.price) == price_clip(30.0, "yue", "adult", CARD)
        published = session.get(Clip, yue[1])
        assert published.status == "published" and published.currency == "CNY"
        assert Decimal(published.price) == Decimal("1.17")  # 30 s at 7 CNY per 3 minutes
        assert session.scalar(select(func.count()).select_from(WorkItem)) == 8
    assert publish(database).published == 0  # nothing collected is left


def test_publishing_one_project_leaves_the_others_collected(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 2, project="alpha")
        add_clips(session, 3, project="beta")
    assert publish(database, project="beta").published == 3
    with database.session() as session:
        statuses = dict(
            session.execute(select(Clip.project, Clip.status).where(Clip.project == "alpha")).all()
        )
    assert statuses == {"alpha": "collected"}


def test_claims_only_offer_languages_the_person_is_qualified_in(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 2, language="yue")
        en_clips = add_clips(session, 1, language="en")
        ann = add_person(session, "ann", languages=("en", "yue"), qualified=("en",)).person
    publish(database, overlap=1)
    first = claim(database, ann)
    assert isinstance(first, Claim) and first.clip_id == en_clips[0]
    assert isinstance(claim(database, ann), NoWork)
    with pytest.raises(NotQualified, match="yue"):
        claim(database, ann, language="yue")


def test_a_person_in_two_languages_gets_the_first_slot_of_either(database: Database) -> None:
    with database.session() as session:
        en_clips = add_clips(session, 2, language="en")
        urgent_yue = add_clips(session, 1, language="yue", priority=5)
        yue_clips = add_clips(session, 1, language="yue")
        ann = add_person(session, "ann", languages=("en", "yue")).person
        bob = add_person(session, "bob", languages=("en", "yue")).person
    publish(database, overlap=1)
    order = [claim(database, ann).clip_id for _ in range(2)]
    assert order == [urgent_yue[0], en_clips[0]]
    assert claim(database, bob, language=" YUE ").clip_id == yue_clips[0]
    assert claim(database, bob).clip_id == en_clips[1]
    nothing = claim(database, bob)
    assert isinstance(nothing, NoWork) and "No clips in en, yue right now" in nothing.message


def test_a_paused_person_cannot_claim_until_qualified_again(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 2)
        ann = add_person(session, "ann").person
        pause_language(session, ann.id, "en", "accuracy fell below the bar")
    publish(database)
    with pytest.raises(NotQualified):
        claim(database, ann)


def test_higher_priority_first_then_oldest_first(database: Database) -> None:
    with database.session() as session:
        old = add_clips(session, 2, prefix="old")
        urgent = add_clips(session, 1, priority=5, prefix="urgent")
        people = [add_person(session, name).person for name in ("ann", "bob", "cat", "dan")]
    publish(database, overlap=1)
    order = [claim(database, person).clip_id for person in people[:3]]
    assert order == [urgent[0], old[0], old[1]]
    assert isinstance(claim(database, people[3]), NoWork)


def test_nobody_gets_the_same_clip_twice(database: Database) -> None:
    with database.session() as session:
        clips = add_clips(session, 3)
        ann, bob = add_person(session, "ann").person, add_person(session, "bob").person
    publish(database, overlap=2)
    ann_clips = []
    while isinstance(held := claim(database, ann), Claim):
        ann_clips.append(held.clip_id)
        submit(database, ann, held)
    assert sorted(ann_clips) == clips
    bob_clips = [claim(database, bob).clip_id for _ in range(3)]
    assert sorted(bob_clips) == clips
    assert isinstance(claim(database, bob), NoWork)


def test_nothing_left_says_how_many_are_leased_and_when_the_first_returns(
    database: Database,
) -> None:
    with database.session() as session:
        add_clips(session, 3)
        people = [add_person(session, name).person for name in ("ann", "bob", "cat", "dan")]
    publish(database, overlap=1)
    for minutes, person in enumerate(people[:3]):
        claim(database, person, at=T0 + timedelta(minutes=minutes))
    nothing = claim(database, people[3], at=T0 + timedelta(minutes=3))
    assert isinstance(nothing, NoWork)
    assert nothing.next_expected_at == T0 + timedelta(seconds=LEASE_S)
    assert "No clips in en right now; 3 are held by others under lease" in nothing.message
    assert "the earliest returns at 12:10 UTC" in nothing.message


def test_an_expired_lease_returns_the_slot_to_the_queue(database: Database) -> None:
    with database.session() as session:
        clips = add_clips(session, 1)
        ann, bob = add_person(session, "ann").person, add_person(session, "bob").person
    publish(database, overlap=1)
    held = claim(database, ann)
    assert isinstance(claim(database, bob, at=T0 + timedelta(seconds=LEASE_S - 1)), NoWork)
    taken = claim(database, bob, at=T0 + timedelta(seconds=LEASE_S + 1))
    assert isinstance(taken, Claim) and taken.clip_id == clips[0]
    with database.session() as session:
        assert session.get(Assignment, held.assignment_id).state == "expired"
        item = session.scalar(select(WorkItem))
        assert (item.state, item.assignment_id) == ("leased", taken.assignment_id)


def test_a_slot_whose_clip_went_to_review_is_not_handed_out_again(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 1)
        ann, bob = add_person(session, "ann").person, add_person(session, "bob").person
    publish(database, overlap=1)
    assert isinstance(claim(database, ann), Claim)
    with database.session() as session:
        session.scalar(select(Clip)).status = "disputed"
    assert isinstance(claim(database, bob, at=T0 + timedelta(seconds=LEASE_S + 1)), NoWork)


def test_text_typed_past_an_untaken_lease_still_counts(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 1)
        ann = add_person(session, "ann").person
    publish(database, overlap=1)
    held = claim(database, ann)
    receipt = submit(database, ann, held, at=T0 + timedelta(seconds=LEASE_S * 3))
    assert receipt.status == "counted" and not receipt.duplicate
    with database.session() as session:
        assert session.scalar(select(WorkItem.state)) == "done"
        entry = session.scalar(select(LedgerEntry))
        assert (entry.user_id, Decimal(entry.amount)) == (ann.id, held.price)


def test_text_for_a_slot_someone_else_took_is_kept_as_late_and_unpaid(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 1)
        ann, bob = add_person(session, "ann").person, add_person(session, "bob").person
    publish(database, overlap=1)
    ann_held = claim(database, ann)
    bob_held = claim(database, bob, at=T0 + timedelta(seconds=LEASE_S + 5))
    late = submit(database, ann, ann_held, text="ann typed this", at=T0 + timedelta(seconds=700))
    assert late.status == "late"
    assert "NOT counted" in late.message and "will not be paid" in late.message
    counted = submit(database, bob, bob_held, at=T0 + timedelta(seconds=710))
    assert counted.status == "counted"
    with database.session() as session:
        rows = dict(session.execute(select(Submission.user_id, Submission.text)).all())
        assert rows == {ann.id: "ann typed this", bob.id: "hello world"}
        paid = session.scalars(select(LedgerEntry.user_id)).all()
        assert paid == [bob.id]


def test_the_same_request_twice_stores_one_submission(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 1)
        ann = add_person(session, "ann").person
    publish(database, overlap=1)
    held = claim(database, ann)
    first = submit(database, ann, held, request_id="req-1")
    again = submit(database, ann, held, request_id="req-1")
    assert again.duplicate and not first.duplicate
    assert (again.submission_id, again.status) == (first.submission_id, "counted")
    with pytest.raises(Conflict, match="already submitted"):
        submit(database, ann, held, request_id="req-2", text="a different text")
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 1
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 1


def test_the_same_request_sent_twice_at_once_stores_one_submission(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 6)
        ann = add_person(session, "ann").person
    publish(database, overlap=1)
    for _ in range(6):
        held = claim(database, ann)
        start = threading.Barrier(2)

        def send(held=held, start=start):
            start.wait()
            return submit(database, ann, held, request_id=f"r-{held.assignment_id}")

        with ThreadPoolExecutor(2) as pool:
            receipts = list(pool.map(lambda _: send(), range(2)))
        assert len({receipt.submission_id for receipt in receipts}) == 1
        assert sorted(receipt.duplicate for receipt in receipts) == [False, True]
        assert {receipt.status for receipt in receipts} == {"counted"}
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 6
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 6


def test_a_submission_commits_the_work_begun_in_its_session(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 1)
        ann = add_person(session, "ann").person
    publish(database, overlap=1)
    held = claim(database, ann)
    session = database.sessions()
    try:
        session.get(Assignment, held.assignment_id).skip_reason = "other"
        receipt = submit_transcript(session, held.assignment_id, ann.id, "hello", "req-1", T0)
    finally:
        session.close()
    assert receipt.status == "counted"
    with database.session() as session:
        assert session.scalar(select(Submission.text)) == "hello"
        assert session.get(Assignment, held.assignment_id).skip_reason == "other"
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 1


def test_text_breaking_the_conventions_is_refused_and_nothing_stored(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 1)
        ann = add_person(session, "ann").person
    publish(database, overlap=1)
    held = claim(database, ann)
    with pytest.raises(ConventionError) as refused:
        submit(database, ann, held, text="hello [nosie] world")
    assert refused.value.problems
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 0
        assert session.scalar(select(WorkItem.state)) == "leased"
    assert submit(database, ann, held, text="hello [noise] world").status == "counted"


def test_a_skipped_clip_goes_to_someone_else_and_never_back(database: Database) -> None:
    with database.session() as session:
        clips = add_clips(session, 1)
        ann, bob = add_person(session, "ann").person, add_person(session, "bob").person
    publish(database, overlap=1)
    held = claim(database, ann)
    with database.session() as session:
        skip_assignment(session, held.assignment_id, ann.id, "bad_audio", T0)
    assert isinstance(claim(database, ann), NoWork)
    assert claim(database, bob).clip_id == clips[0]
    with database.session() as session:
        assignment = session.get(Assignment, held.assignment_id)
        assert (assignment.state, assignment.skip_reason) == ("skipped", "bad_audio")
    with pytest.raises(Conflict, match="skipped"):
        submit(database, ann, held)


def test_renewing_extends_a_lease_until_someone_else_takes_the_slot(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 1)
        ann, bob = add_person(session, "ann").person, add_person(session, "bob").person
    publish(database, overlap=1)
    held = claim(database, ann)
    renewed_at = T0 + timedelta(seconds=500)
    with database.session() as session:
        expires = renew_lease(session, held.assignment_id, ann.id, renewed_at, LEASE_S)
    assert expires == renewed_at + timedelta(seconds=LEASE_S)
    assert isinstance(claim(database, bob, at=T0 + timedelta(seconds=LEASE_S + 1)), NoWork)
    claim(database, bob, at=expires + timedelta(seconds=1))
    with pytest.raises(LeaseExpired), database.session() as session:
        renew_lease(session, held.assignment_id, ann.id, expires + timedelta(seconds=2), LEASE_S)


def test_audio_is_only_served_to_the_person_holding_the_clip(database: Database) -> None:
    with database.session() as session:
        clips = add_clips(session, 2)
        ann, bob = add_person(session, "ann").person, add_person(session, "bob").person
    publish(database, overlap=1)
    held = claim(database, ann)
    with database.session() as session:
        assert held_clip_path(session, ann.id, held.clip_id) == f"clips/{held.clip_id}.flac"
        with pytest.raises(Forbidden):
            held_clip_path(session, bob.id, held.clip_id)
        with pytest.raises(Forbidden):
            held_clip_path(session, ann.id, clips[1])
        with pytest.raises(NotFound):
            held_clip_path(session, ann.id, "no-such-clip")
    submit(database, ann, held)
    with pytest.raises(Forbidden), database.session() as session:
        held_clip_path(session, ann.id, held.clip_id)


def test_gold_clips_are_mixed_in_at_the_gold_rate_and_never_repeat(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 60)
        gold = add_clips(session, 4, prefix="gold")
        for clip_id in gold:
            session.add(GoldClip(clip_id=clip_id, reference_text="hello world"))
        ann = add_person(session, "ann").person
        # A gold clip seen in the exam must never come back as work.
        session.add(ExamAttempt(user_id=ann.id, language="en", clip_ids=[gold[0]], threshold=0.15))
    publish(database, overlap=1)
    random.seed(7)
    claims = [claim(database, ann, gold_rate=0.5) for _ in range(40)]
    gold_claims = [held for held in claims if held.is_gold]
    assert sorted(held.clip_id for held in gold_claims) == sorted(gold[1:])
    assert all(held.price == price_clip(6.0, "en", "adult", CARD) for held in gold_claims)
    with database.session() as session:
        gold_rows = session.scalars(select(Assignment).where(Assignment.is_gold)).all()
        assert [row.work_item_id for row in gold_rows] == [None] * 3
    receipt = submit(database, ann, gold_claims[0])
    assert receipt.status == "counted"


def test_gold_mixing_follows_the_rate_while_gold_lasts(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 400)
        gold = add_clips(session, 400, prefix="gold")
        for clip_id in gold:
            session.add(GoldClip(clip_id=clip_id, reference_text="hello world"))
        ann = add_person(session, "ann").person
    publish(database, overlap=1)
    random.seed(11)
    claims = [claim(database, ann, gold_rate=0.2) for _ in range(300)]
    share = sum(held.is_gold for held in claims) / len(claims)
    assert 0.13 < share < 0.27


def test_an_added_slot_is_one_more_independent_transcription(database: Database) -> None:
    with database.session() as session:
        clips = add_clips(session, 1)
        ann, bob, cat = (add_person(session, name).person for name in ("ann", "bob", "cat"))
    publish(database, overlap=1)
    submit(database, ann, claim(database, ann))
    assert isinstance(claim(database, bob), NoWork)
    with database.session() as session:
        assert add_slot(session, clips[0], T0) == 2
    assert isinstance(claim(database, ann), NoWork)
    assert claim(database, bob).clip_id == clips[0]
    assert isinstance(claim(database, cat), NoWork)


def test_a_claim_on_sqlite_walks_the_claim_index_once_statistics_exist(sqlite_database):
    """With ANALYZE statistics over thousands of clips SQLite's own choice was to scan every clip
    and sort them, a claim costing milliseconds more with each thousand clips queued."""
    from sqlalchemy import event, insert, text

    with sqlite_database.session() as session:
        recording_id = session.get(Clip, add_clips(session, 1)[0]).recording_id
        session.execute(
            insert(Clip),
            [
                {
                    "id": f"bulk-{n:05d}",
                    "recording_id": recording_id,
                    "start_s": float(n),
                    "end_s": n + 1.0,
                    "duration_s": 1.0,
                    "audio_path": f"clips/bulk-{n}.flac",
                    "language": "en",
                    "speaker_group": "adult",
                    "project": "default",
                    "status": "collected",
                    "priority": 0,
                    "created_at": T0,
                }
                for n in range(8000)
            ],
        )
        publish_clips(session, project=None, overlap=2, card=default_rate_card(), now=T0)
        person = add_person(session, "ada").person
    with sqlite_database.engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    executed = []

    def remember(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if "FROM work_items" in statement and statement.lstrip().startswith("SELECT"):
            executed.append((statement, parameters))

    event.listen(sqlite_database.engine, "before_cursor_execute", remember)
    try:
        assert isinstance(claim_next_clip(sqlite_database, person.id, now=T0), Claim)
    finally:
        event.remove(sqlite_database.engine, "before_cursor_execute", remember)
    statement, parameters = executed[0]
    with sqlite_database.engine.connect() as connection:
        plan = " | ".join(
            row[-1]
            for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        )
    assert "ix_work_items_open" in plan and "SCAN clips" not in plan, plan


def test_request_ids_belong_to_their_person(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 1)
        ann = add_person(session, "ann").person
        bob = add_person(session, "bob").person
    publish(database, overlap=2)
    ann_held, bob_held = claim(database, ann), claim(database, bob)
    first = submit(database, ann, ann_held, request_id="same-id-1")
    second = submit(database, bob, bob_held, request_id="same-id-1")
    assert not first.duplicate and not second.duplicate
    assert first.submission_id != second.submission_id


def test_the_same_request_with_another_text_is_refused_and_the_first_stands(
    database: Database,
) -> None:
    with database.session() as session:
        add_clips(session, 1)
        ann = add_person(session, "ann").person
    publish(database, overlap=1)
    held = claim(database, ann)
    submit(database, ann, held, request_id="req-1", text="hello world")
    assert submit(database, ann, held, request_id="req-1", text="hello   world").duplicate
    with pytest.raises(Conflict, match="already stored a different transcript"):
        submit(database, ann, held, request_id="req-1", text="goodbye world")
    with database.session() as session:
        assert session.scalar(select(Submission.text)) == "hello world"


def test_a_transcript_longer_than_its_clip_allows_is_refused(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 1)
        ann = add_person(session, "ann").person
    publish(database, overlap=1)
    held = claim(database, ann)
    with pytest.raises(InvalidInput, match="characters long"):
        submit(database, ann, held, text="word " * 400)
    assert submit(database, ann, held, text="hello world").status == "counted"


def test_a_submit_and_a_skip_sent_together_have_one_winner(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 8)
        ann = add_person(session, "ann").person
    publish(database, overlap=1)
    for _ in range(8):
        held = claim(database, ann)
        start = threading.Barrier(2)

        def send_submit(held=held, start=start):
            start.wait()
            try:
                return submit(database, ann, held, request_id=f"r-{held.assignment_id}")
            except Conflict:
                return None

        def send_skip(held=held, start=start):
            start.wait()
            try:
                with database.session() as session:
                    skip_assignment(session, held.assignment_id, ann.id, "other", T0)
                return "skipped"
            except Conflict:
                return None

        with ThreadPoolExecutor(2) as pool:
            outcomes = [pool.submit(send_submit), pool.submit(send_skip)]
            won = [outcome.result() for outcome in outcomes]
        assert sum(result is not None for result in won) == 1, won
        with database.session() as session:
            state = session.get(Assignment, held.assignment_id).state
        assert state == ("submitted" if won[0] is not None else "skipped")
