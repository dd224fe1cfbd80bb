"""Claim and submit on PostgreSQL: few round trips, and a lock order that cannot deadlock."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import event, insert, select, text, update

from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Assignment, LedgerEntry, Submission, WorkItem
from tests.builders import T0, add_clips, add_person
from transcribe.dispatch.sequences import Claim
from transcribe.dispatch.statements import CLAIM_IN_ONE
from transcribe.dispatch.sync_runner import claim_next_clip, submit_transcript
from transcribe.pricing import default_rate_card
from transcribe.publishing import publish_clips

LEASE_S = 600


def _one_person_one_slot(database: Database):
    with database.session() as session:
        add_clips(session, 1)
        ann = add_person(session, "ann").person
        publish_clips(session, project=None, overlap=1, card=default_rate_card(), now=T0)
    return ann


def _submit(database: Database, person, held: Claim, at=T0):
    with database.session() as session:
        return submit_transcript(
            session, held.assignment_id, person.id, "hello world", held.assignment_id, at
        )


def test_a_claim_is_one_statement_and_a_submit_two_each_without_begin_or_commit(
    postgres_database: Database,
) -> None:
    ann = _one_person_one_slot(postgres_database)
    sent: list[tuple[str, bool]] = []

    def record(connection, _cursor, statement, *_args) -> None:
        sent.append((statement.split()[0], connection.connection.dbapi_connection.autocommit))

    event.listen(postgres_database.engine, "before_cursor_execute", record)
    try:
        held = claim_next_clip(postgres_database, ann.id, now=T0, lease_s=LEASE_S)
        claimed, sent[:] = list(sent), []
        receipt = _submit(postgres_database, ann, held)
    finally:
        event.remove(postgres_database.engine, "before_cursor_execute", record)
    assert isinstance(held, Claim) and receipt.status == "counted"
    assert claimed == [("WITH", True)]
    assert sent == [("SELECT", True), ("WITH", True)]
    with postgres_database.session() as session:
        assert session.scalar(select(Submission.status)) == "counted"
        assert session.scalar(select(LedgerEntry.amount)) == held.price


def _wait_until_a_query_waits_for_a_lock(database: Database) -> None:
    with database.engine.connect() as connection:
        for _ in range(500):
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            connection.rollback()
            if waiting:
                return
            time.sleep(0.01)
    raise AssertionError("the submission never waited for the slot")


def test_a_claim_taking_over_a_slot_while_its_holder_submits_does_not_deadlock(
    postgres_database: Database,
) -> None:
    database = postgres_database
    ann = _one_person_one_slot(database)
    held = claim_next_clip(database, ann.id, now=T0, lease_s=LEASE_S)
    # Someone's claim of the expired slot, by hand and in a claim's lock order: first the work
    # item, then the old holder's assignment. Ann's submission arrives in between.
    with database.engine.connect() as taker, ThreadPoolExecutor(1) as pool:
        taker.execute(text("SET lock_timeout = '5s'"))
        mine = WorkItem.assignment_id == held.assignment_id
        item_id = taker.execute(select(WorkItem.id).where(mine).with_for_update()).scalar_one()
        late = pool.submit(_submit, database, ann, held, T0 + timedelta(seconds=LEASE_S + 5))
        _wait_until_a_query_waits_for_a_lock(database)
        taker.execute(
            update(Assignment)
            .where(Assignment.id == held.assignment_id, Assignment.state == "leased")
            .values(state="expired")
        )
        taker.execute(
            update(WorkItem).where(WorkItem.id == item_id).values(assignment_id="someone-else")
        )
        taker.commit()
        receipt = late.result(timeout=10)
    assert receipt.status == "late"
    with database.session() as session:
        assert session.get(Assignment, held.assignment_id).state == "submitted"
        assert session.get(WorkItem, item_id).state == "leased"
        assert session.scalar(select(LedgerEntry)) is None


def _claim_buffers(database: Database, person) -> int:
    """Buffers the claim statement touches for ``person`` (rolled back: nothing is claimed)."""
    compiled = CLAIM_IN_ONE.compile(dialect=database.engine.dialect)
    values = {
        "p_user_id": person.id,
        "p_language": None,
        "p_now": T0,
        "p_expires": T0 + timedelta(seconds=LEASE_S),
        "p_assignment": "explained",
    }
    with database.engine.connect() as connection:
        (plan,) = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {compiled}",
            compiled.construct_params(values),
        ).scalar_one()
        connection.rollback()
    top = plan["Plan"]
    return top["Shared Hit Blocks"] + top["Shared Read Blocks"]


def test_a_claim_reads_no_more_with_thousands_of_leases_held_or_a_long_history(
    postgres_database: Database,
) -> None:
    """The crowd at work holds a lease each, for minutes, and a regular has done thousands of
    clips: neither may make every claim read more (one index over open and leased slots made
    a claim step past each held slot; a join with a person's history read all of it)."""
    database = postgres_database
    with database.session() as session:
        clips = add_clips(session, 3000)
        ann, regular = add_person(session, "ann").person, add_person(session, "regular").person
        publish_clips(session, project=None, overlap=1, card=default_rate_card(), now=T0)
    quiet = _claim_buffers(database, ann)
    with database.engine.begin() as connection:
        # 2,000 slots held by others at the head of the queue, and 900 clips in the regular's past
        connection.execute(
            update(WorkItem)
            .where(WorkItem.clip_id.in_(clips[:2000]))
            .values(state="leased", lease_expires_at=T0 + timedelta(hours=1))
        )
        connection.execute(
            insert(Assignment),
            [
                {
                    "id": f"past-{n}",
                    "clip_id": clip_id,
                    "user_id": regular.id,
                    "state": "submitted",
                    "is_gold": False,
                    "leased_at": T0,
                    "lease_expires_at": T0,
                }
                for n, clip_id in enumerate(clips[2100:3000])
            ],
        )
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # As autovacuum would: the slots' old open versions leave the index (until then each
        # claim steps over their few index pages).
        connection.execute(text("VACUUM ANALYZE"))
    assert _claim_buffers(database, ann) <= quiet + 5
    assert _claim_buffers(database, regular) <= quiet + 5
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW jit").scalar_one() == "off"
