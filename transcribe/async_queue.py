"""Claims and submits for the web server on PostgreSQL, without blocking its event loop.

The same single statements as ``transcribe.queue`` and ``transcribe.leases``, sent on psycopg's
async connections: while PostgreSQL works on one request the server process goes on with the
others, where a blocking call would leave it idle for every round trip (two thirds of its time
at full load). Only the common case runs here: a slot claimed, a transcript stored. Whatever
else a request needs (a gold clip, no work to give, a retried or refused submission) goes to the
sync functions in a worker thread, so each rule of the queue is written once.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.sql import Executable

from crowdscribe.clock import utc_now
from crowdscribe.storage.db import Database
from transcribe import leases, queue
from transcribe.leases import Receipt
from transcribe.queue import Claim, NoWork
from transcribe.transactions import RETRY_SQLSTATES, WRITE_ATTEMPTS, retry_pause_s


@dataclass(frozen=True)
class Statement:
    """A SQLAlchemy statement compiled once for psycopg: its SQL and how to bind its values."""

    sql: str
    compiled: Any

    @classmethod
    def of(cls, statement: Executable) -> Statement:
        compiled = statement.compile(dialect=PGDialect_psycopg())
        return cls(str(compiled), compiled)

    def parameters(self, values: dict) -> dict:
        """``values`` with the constants the statement binds itself ('open', 'leased'...)."""
        return self.compiled.construct_params(values)


_CLAIM = Statement.of(queue.CLAIM_IN_ONE)
_HELD = Statement.of(leases.HELD)
_STORE = Statement.of(leases.STORE_IN_ONE)


async def claim_next_clip_async(
    pool: AsyncConnectionPool,
    database: Database,
    user_id: int,
    *,
    language: str | None = None,
    now: datetime | None = None,
    lease_s: float = 600,
    gold_rate: float = 0.0,
) -> Claim | NoWork:
    """``queue.claim_next_clip`` on PostgreSQL: the claim statement on an async connection;
    a gold clip, or an empty hand to explain, through the sync function."""
    now = utc_now(now)
    if gold_rate > 0 and random.random() < gold_rate:
        return await asyncio.to_thread(
            queue.claim_next_clip,
            database,
            user_id,
            language=language,
            now=now,
            lease_s=lease_s,
            gold_rate=1.0,
        )
    language = queue.wanted_language(language)
    values = queue.claim_values(user_id, language, now, now + timedelta(seconds=lease_s))
    try:
        claim = queue.claimed_slot(await _first_row(pool, _CLAIM, values), values)
    except psycopg.IntegrityError:
        claim = None  # the same person claiming twice at once: the sync path retries
    if claim is not None:
        return claim
    # Not qualified, nothing open, or a race lost: the sync function claims once more and says
    # which.
    return await asyncio.to_thread(
        queue.claim_next_clip, database, user_id, language=language, now=now, lease_s=lease_s
    )


async def submit_transcript_async(
    pool: AsyncConnectionPool,
    database: Database,
    assignment_id: str,
    user_id: int,
    text: str,
    request_id: str,
    now: datetime,
) -> Receipt:
    """``leases.submit_transcript`` on PostgreSQL: stored and committed in one statement once
    the held assignment is read; a retry, a refusal or a lost race through the sync function."""
    leases.check_request_id(request_id)
    now = utc_now(now)
    read = {"p_assignment": assignment_id, "p_request": request_id}
    row = leases.held_by(await _first_row(pool, _HELD, read), assignment_id, user_id)
    answered = leases.answer_before_storing(row, request_id)
    if answered is not None:
        return answered
    values = leases.store_values(row, assignment_id, user_id, text, request_id, now)
    try:
        stored = await _first_row(pool, _STORE, values)
    except psycopg.IntegrityError:
        stored = None  # the request_id was spent at the same moment: the sync path says how
    if stored is not None:
        return leases.stored_receipt(stored, row.clip_id)
    return await asyncio.to_thread(
        leases.submit_in_own_session, database, assignment_id, user_id, text, request_id, now
    )


async def _first_row(pool: AsyncConnectionPool, statement: Statement, values: dict):
    """The first row ``statement`` returns (None for none), in autocommit on a pooled
    connection. A statement that lost a race (deadlock, serialization) or its connection is
    sent again after a short random pause; the pool replaces a broken connection, and a store
    that did commit before its answer was lost then finds nothing left to store."""
    parameters = statement.parameters(values)
    for attempt in range(WRITE_ATTEMPTS):
        async with pool.connection() as connection:
            try:
                cursor = await connection.execute(statement.sql, parameters, prepare=True)
                return await cursor.fetchone()
            except psycopg.Error as error:
                again = connection.broken or error.sqlstate in RETRY_SQLSTATES
                if attempt == WRITE_ATTEMPTS - 1 or not again:
                    raise
        await asyncio.sleep(retry_pause_s(attempt))
    raise AssertionError("unreachable")
