"""The two ways claims and submits reach the database, so one test can check both: the sync
functions (CLI, pages, SQLite), and the web server's async path on PostgreSQL.

A test's ``database`` fixture registers an ``AsyncQueue`` for the databases it wants driven the
async way; ``queue_for(database)`` finds it, else the sync functions.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from crowdscribe.storage.db import Database, open_async_pool
from transcribe.dispatch.async_runner import claim_next_clip_async, submit_transcript_async
from transcribe.dispatch.sequences import Claim, NoWork, Receipt
from transcribe.dispatch.sync_runner import claim_next_clip, submit_in_own_session

WAIT_S = 60


class SyncQueue:
    """Claims and submits through ``transcribe.dispatch.sync_runner``."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def claim(self, user_id: int, **options) -> Claim | NoWork:
        return claim_next_clip(self.database, user_id, **options)

    def submit(
        self, assignment_id: str, user_id: int, text: str, request_id: str, now: datetime
    ) -> Receipt:
        return submit_in_own_session(self.database, assignment_id, user_id, text, request_id, now)


class AsyncQueue:
    """Claims and submits through ``transcribe.dispatch.async_runner`` on an event loop of its
    own (in a thread, with its pool, as a web server process has), callable from any thread."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.pool = self._run(open_async_pool(database.url))

    def _run(self, coroutine: Coroutine) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(WAIT_S)

    def claim(self, user_id: int, **options) -> Claim | NoWork:
        return self._run(claim_next_clip_async(self.pool, user_id, **options))

    def submit(
        self, assignment_id: str, user_id: int, text: str, request_id: str, now: datetime
    ) -> Receipt:
        return self._run(
            submit_transcript_async(self.pool, assignment_id, user_id, text, request_id, now)
        )

    def close(self) -> None:
        self._run(self.pool.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(WAIT_S)
        self.loop.close()


_async_queues: weakref.WeakKeyDictionary[Database, AsyncQueue] = weakref.WeakKeyDictionary()


def drive_async(database: Database) -> AsyncQueue:
    """From now on ``queue_for(database)`` is the async path; close the result when done."""
    queue = _async_queues[database] = AsyncQueue(database)
    return queue


def queue_for(database: Database) -> SyncQueue | AsyncQueue:
    """The way the current test drives ``database``'s queue."""
    return _async_queues.get(database) or SyncQueue(database)
