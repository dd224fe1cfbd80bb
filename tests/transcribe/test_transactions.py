"""The SQLite writer lock: queued across processes, and never waited for on the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.web.deps import run_database_work
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Assignment
from tests.builders import T0, add_clips, add_person
from transcribe.dispatch.sequences import Claim
from transcribe.dispatch.sync_runner import claim_next_clip, submit_transcript
from transcribe.dispatch.writes import FairLock, WouldWait, without_waiting, writer_lock
from transcribe.pricing import default_rate_card
from transcribe.publishing import publish_clips

CHILD = """
import sys, time
from pathlib import Path
from transcribe.dispatch.writes import FairLock
lock = FairLock(Path(sys.argv[1]))
print("waiting", flush=True)
lock.acquire()
print("got", flush=True)
lock.release()
"""


def test_a_second_process_waits_for_the_writer_lock_until_it_is_released(tmp_path: Path):
    path = tmp_path / "db.sqlite.writer-lock"
    mine = FairLock(path)
    assert mine.acquire(timeout=1)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert child.stdout.readline().strip() == "waiting"
        time.sleep(0.5)
        assert child.poll() is None, "the other process took a lock this one holds"
        mine.release()
        assert child.stdout.readline().strip() == "got"
        assert child.wait(timeout=10) == 0
    finally:
        child.kill()


def _queue(database: Database) -> tuple[int, int]:
    """Two open slots and two qualified people."""
    with database.session() as session:
        add_clips(session, 1)
        publish_clips(session, project=None, overlap=2, card=default_rate_card(), now=T0)
        return add_person(session, "ada").person.id, add_person(session, "bo").person.id


def _assignments(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Assignment))


def test_work_on_the_event_loop_gives_way_when_a_thread_holds_the_writer_lock(
    sqlite_database: Database,
):
    ada, _ = _queue(sqlite_database)
    lock = writer_lock(sqlite_database.engine)
    assert lock.acquire(timeout=1)
    try:
        with pytest.raises(WouldWait), without_waiting():
            claim_next_clip(sqlite_database, ada, now=T0)
    finally:
        lock.release()
    assert _assignments(sqlite_database) == 0

    # Handed to a worker thread instead, the same claim waits its turn and goes through.
    assert lock.acquire(timeout=1)
    threading.Timer(0.2, lock.release).start()
    claim = asyncio.run(
        run_database_work(sqlite_database, lambda: claim_next_clip(sqlite_database, ada, now=T0))
    )
    assert isinstance(claim, Claim)
    assert _assignments(sqlite_database) == 1


def test_a_writer_outside_the_lock_makes_loop_work_give_way_at_once(sqlite_database: Database):
    """A page's own session may hold SQLite's lock while its thread waits for the event loop:
    the loop must not sit in SQLite's busy handler (30 s) waiting for it."""
    ada, bo = _queue(sqlite_database)
    claim = claim_next_clip(sqlite_database, ada, now=T0)
    other = sqlite3.connect(sqlite_database.engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(WouldWait), without_waiting():
            claim_next_clip(sqlite_database, bo, now=T0)
        with pytest.raises(WouldWait), without_waiting(), sqlite_database.session() as session:
            submit_transcript(session, claim.assignment_id, ada, "hello", "request-1", T0)
        assert time.monotonic() - started < 1.0  # not the 30 s busy timeout
    finally:
        other.rollback()
        other.close()
    assert _assignments(sqlite_database) == 1
    # Once the lock is free the same work goes through on the loop, busy timeout restored.
    with without_waiting(), sqlite_database.session() as session:
        receipt = submit_transcript(session, claim.assignment_id, ada, "hello", "request-1", T0)
    assert receipt.status == "counted"
    with sqlite_database.engine.connect() as connection:
        timeout_ms = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    assert timeout_ms == 30_000
