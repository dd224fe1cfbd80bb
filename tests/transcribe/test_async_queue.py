"""The web server's async path on PostgreSQL: the common case never leaves the event loop, and
a connection PostgreSQL drops is replaced without the request failing. (Every rule of the
queue is also checked on this path: ``test_queue.py`` runs each test through it.)"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text

from crowdscribe.storage.db import ASYNC_POOL_NAME, ASYNC_POOL_SIZE, Database
from crowdscribe.storage.models import LedgerEntry, Submission, WorkItem
from tests.builders import T0, add_clips, add_person
from tests.transcribe.queue_paths import AsyncQueue
from transcribe import async_queue
from transcribe.pricing import default_rate_card
from transcribe.queue import Claim, NoWork, publish_clips


@pytest.fixture
def queue(postgres_database: Database) -> Iterator[AsyncQueue]:
    driven = AsyncQueue(postgres_database)
    yield driven
    driven.close()


def _publish(database: Database, clips: int, people: int) -> list:
    with database.session() as session:
        add_clips(session, clips)
        made = [add_person(session, f"p{n}") for n in range(people)]
        publish_clips(session, project=None, overlap=1, card=default_rate_card(), now=T0)
    return made


def test_claims_and_submits_stay_on_the_event_loop(queue, postgres_database, monkeypatch):
    ann, bob = _publish(postgres_database, 2, 2)

    def no_threads(*_args, **_kwargs):
        raise AssertionError("the common case must not hand work to a thread")

    monkeypatch.setattr(async_queue.asyncio, "to_thread", no_threads)
    receipts = []
    for person in (ann, bob):
        held = queue.claim(person.id, now=T0)
        assert isinstance(held, Claim) and not held.is_gold
        receipts.append(queue.submit(held.assignment_id, person.id, "hello", f"r-{person.id}", T0))
    assert [receipt.status for receipt in receipts] == ["counted", "counted"]
    with postgres_database.session() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 2
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 2
        assert set(session.scalars(select(WorkItem.state))) == {"done"}


def test_an_empty_queue_is_explained_by_the_sync_path(queue, postgres_database):
    (ann,) = _publish(postgres_database, 0, 1)
    nothing = queue.claim(ann.id, now=T0)
    assert isinstance(nothing, NoWork) and "No clips in en" in nothing.message


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
            *(
                async_queue.claim_next_clip_async(queue.pool, postgres_database, person.id, now=T0)
                for person in people
            )
        )

    claims = asyncio.run_coroutine_threadsafe(everyone(), queue.loop).result(60)
    assert all(isinstance(held, Claim) for held in claims)
    assert len({held.clip_id for held in claims}) == 50
    with postgres_database.session() as session:
        leased = session.scalar(
            select(func.count()).select_from(WorkItem).where(WorkItem.state == "leased")
        )
    assert leased == 50
