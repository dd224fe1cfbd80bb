"""The web server's async path on PostgreSQL: the common case never leaves the event loop, and
a connection PostgreSQL drops is replaced without the request failing. (Every rule of the
queue is also checked on this path: ``test_queue.py`` runs each test through it.)"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import event, func, select, text

from crowdscribe.storage.db import ASYNC_POOL_NAME, ASYNC_POOL_SIZE, Database
from crowdscribe.storage.models import GoldClip, LedgerEntry, Submission, WorkItem
from tests.builders import T0, add_clips, add_person
from tests.transcribe.queue_paths import AsyncQueue
from transcribe.dispatch.async_runner import claim_next_clip_async
from transcribe.dispatch.sequences import Claim, NoWork
from transcribe.pricing import default_rate_card
from transcribe.publishing import publish_clips


@pytest.fixture
def queue(postgres_database: Database) -> Iterator[AsyncQueue]:
    driven = AsyncQueue(postgres_database)
    yield driven
    driven.close()


def _publish(database: Database, clips: int, people: int) -> list:
    with database.session() as session:
        add_clips(session, clips)
        made = [add_person(session, f"p{n}").person for n in range(people)]
        publish_clips(session, project=None, overlap=1, card=default_rate_card(), now=T0)
    return made


@pytest.fixture
def sync_statements(postgres_database: Database) -> Iterator[list[str]]:
    """What the sync engine sends meanwhile: the async path must send nothing through it."""
    sent: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        sent.append(statement)

    event.listen(postgres_database.engine, "before_cursor_execute", record)
    yield sent
    event.remove(postgres_database.engine, "before_cursor_execute", record)


def test_claims_and_submits_stay_on_the_event_loop(queue, postgres_database, sync_statements):
    ann, bob = _publish(postgres_database, 2, 2)
    with postgres_database.session() as session:
        gold = add_clips(session, 1, project="gold")[0]
        session.add(GoldClip(clip_id=gold, reference_text="hello"))
        publish_clips(session, project=None, overlap=1, card=default_rate_card(), now=T0)
    sync_statements.clear()
    receipts = []
    for person, gold_rate in ((ann, 1.0), (bob, 0.0)):
        held = queue.claim(person.id, now=T0, gold_rate=gold_rate)
        assert isinstance(held, Claim) and held.is_gold == (gold_rate == 1.0)
        receipts.append(queue.submit(held.assignment_id, person.id, "hello", f"r-{person.id}", T0))
        again = queue.submit(held.assignment_id, person.id, "hello", f"r-{person.id}", T0)
        assert again.duplicate
    assert [receipt.status for receipt in receipts] == ["counted", "counted"]
    assert sync_statements == []
    with postgres_database.session() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 2
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 2
        assert sorted(session.scalars(select(WorkItem.state))) == ["done", "open"]


def test_an_empty_queue_is_explained_on_the_event_loop(queue, postgres_database, sync_statements):
    (ann,) = _publish(postgres_database, 0, 1)
    sync_statements.clear()
    nothing = queue.claim(ann.id, now=T0)
    assert isinstance(nothing, NoWork) and "No clips in en" in nothing.message
    assert sync_statements == []


def test_a_connection_postgresql_dropped_is_replaced_and_the_claim_still_made(
    queue, postgres_database
):
    ann, bob = _publish(postgres_database, 2, 2)
    assert isinstance(queue.claim(ann.id, now=T0), Claim)
    with postgres_database.engine.connect() as connection:
        dropped = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = :name"
            ),
            {"name": ASYNC_POOL_NAME},
        ).scalar_one()
    assert dropped == ASYNC_POOL_SIZE
    held = queue.claim(bob.id, now=T0)
    assert isinstance(held, Claim)
    receipt = queue.submit(held.assignment_id, bob.id, "hello", "r-bob-1", T0)
    assert receipt.status == "counted"


def test_fifty_claims_at_once_on_one_event_loop_take_fifty_distinct_slots(queue, postgres_database):
    people = _publish(postgres_database, 60, 50)

    async def everyone() -> list:
        return await asyncio.gather(
            *(claim_next_clip_async(queue.pool, person.id, now=T0) for person in people)
        )

    claims = asyncio.run_coroutine_threadsafe(everyone(), queue.loop).result(60)
    assert all(isinstance(held, Claim) for held in claims)
    assert len({held.clip_id for held in claims}) == 50
    with postgres_database.session() as session:
        leased = session.scalar(
            select(func.count()).select_from(WorkItem).where(WorkItem.state == "leased")
        )
    assert leased == 50
