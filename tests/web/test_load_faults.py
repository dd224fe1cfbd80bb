"""A crowd on the JSON API over PostgreSQL while a server worker is killed and the app's database
connections are terminated: nobody is answered 500, and afterwards every acknowledged submission
is stored exactly once, no clip is over its overlap, nobody had a clip twice and the ledger
equals the counted work (the short form of ``bench/load.py``; it restarts PostgreSQL too, which
a test must not do to the server other tests share)."""

from __future__ import annotations

import asyncio

import pytest

from bench.crowd import Crowd, Tally, dispatch_check
from bench.faults import kill_worker, terminate_connections, wait_until_serving
from bench.scratch import seed
from crowdscribe.storage.db import Database

pytestmark = pytest.mark.postgres

TRANSCRIBERS = 20
RATE = 40.0  # pairs/s offered
SECONDS = 6.0


async def _load(crowd: Crowd, faults) -> Tally:
    try:
        return await crowd.run(RATE, SECONDS, faults=faults)
    finally:
        crowd.close()


def test_nothing_acknowledged_is_lost_or_doubled_when_a_worker_dies_and_connections_drop(
    serve, postgres_database: Database
) -> None:
    people = seed(postgres_database, clips=int(RATE * SECONDS), people=TRANSCRIBERS)
    with serve(postgres_database, workers=2) as server:
        wait_until_serving(postgres_database.url, 2)
        crowd = Crowd(server.url, people)
        faults = (
            (1.0, lambda: kill_worker(server.pid, postgres_database.url)),
            (3.0, lambda: terminate_connections(postgres_database.url)),
        )
        tally = asyncio.run(_load(crowd, faults))
    killed, terminated = tally.faults
    assert "serving after" in killed, killed
    assert "crowdscribe-claims" in terminated, terminated
    assert not [answer for answer in tally.answers if answer.endswith(" 500")], tally.answers
    assert tally.unexpected == []
    assert tally.pairs >= RATE * SECONDS / 2
    assert len(crowd.acknowledged) == tally.pairs
    findings = dispatch_check(postgres_database, crowd.acknowledged)
    assert findings == dict.fromkeys(findings, [])
