"""Claims, submits and the token check before them for the web server on PostgreSQL, without
blocking its event loop.

The sequences of ``sequences``, with every statement sent on psycopg's async connections: while
PostgreSQL works on one request the server process goes on with the others, where a blocking
call would leave it idle for every round trip (docs/dispatch.md#async-path).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection, pq
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.sql import Executable

from crowdscribe.clock import utc_now
from transcribe.dispatch.sequences import (
    Asker,
    Claim,
    NoWork,
    Ran,
    Receipt,
    Run,
    Sequence,
    Write,
    claim_sequence,
    submit_sequence,
)
from transcribe.dispatch.writes import RETRY_SQLSTATES, WRITE_ATTEMPTS, retry_pause_s
from transcribe.limits import LOOP_CHECK_CHARS
from transcribe.users import BY_TOKEN, Person, person_from_row, token_digest

T = TypeVar("T")
_DIALECT = PGDialect_psycopg()


@dataclass(frozen=True)
class Compiled:
    """A statement compiled once for psycopg: its SQL and how to bind its values."""

    sql: str
    compiled: Any

    @classmethod
    def of(cls, statement: Executable) -> Compiled:
        compiled = statement.compile(dialect=_DIALECT)
        return cls(str(compiled), compiled)

    def parameters(self, values: Any) -> dict:
        """``values`` with the constants the statement binds itself ('leased', 'counted'...)."""
        return self.compiled.construct_params(dict(values))


# Statements are module constants of ``statements``: compiled on first use, kept for good.
_compiled: dict[int, Compiled] = {}


async def claim_next_clip_async(
    pool: AsyncConnectionPool,
    asker: Asker,
    *,
    language: str | None = None,
    now: datetime | None = None,
    lease_s: float = 600,
    gold_rate: float = 0.0,
) -> Claim | NoWork:
    """``sync_runner.claim_next_clip`` on psycopg's async connections; a token holder's token is
    checked by the claim itself."""
    gold = gold_rate > 0 and random.random() < gold_rate
    sequence = claim_sequence("postgresql", asker, language, utc_now(now), lease_s, gold)
    return await drive_async(sequence, pool)


async def submit_transcript_async(
    pool: AsyncConnectionPool,
    assignment_id: str,
    asker: Asker,
    text: str,
    request_id: str,
    now: datetime,
) -> Receipt:
    """``sync_runner.submit_transcript`` on psycopg's async connections, each step committed; a
    token holder's token is checked by the read of the assignment."""
    sequence = submit_sequence("postgresql", assignment_id, asker, text, request_id, utc_now(now))
    return await drive_async(sequence, pool, off_loop=len(text) > LOOP_CHECK_CHARS)


async def authenticate_token_async(pool: AsyncConnectionPool, token: str) -> Person | None:
    """``users.authenticate_token`` on psycopg's async connections: asked on every request, so a
    replaced token or a deactivated person is refused at once."""
    if not token:
        return None
    found = await _with_retries(
        pool, lambda c: _execute(c, Run(BY_TOKEN, {"p_digest": token_digest(token)}))
    )
    row = found.first()
    return None if row is None else person_from_row(row)


async def drive_async(
    sequence: Sequence[T], pool: AsyncConnectionPool, *, off_loop: bool = False
) -> T:
    """Run a sequence in autocommit on pooled connections: a ``Run`` on its own, a ``Write``'s
    steps on one connection; either sent again if it lost a race or its connection. With
    ``off_loop`` the sequence's own work between statements (a long text's conventions check)
    runs in a worker thread."""
    answer = None
    while True:
        if off_loop:
            finished, step = await asyncio.to_thread(_advance, sequence, answer)
        else:
            finished, step = _advance(sequence, answer)
        if finished:
            return step
        if isinstance(step, Write):
            answer = await _with_retries(pool, lambda c, unit=step: _run_unit(unit.steps(), c))
        else:
            answer = await _with_retries(pool, lambda c, run=step: _execute(c, run))


def _advance(sequence: Sequence[T], answer: Any) -> tuple[bool, Any]:
    """(False, the next step) or (True, the sequence's result): a StopIteration cannot cross
    a thread's future."""
    try:
        return False, sequence.send(answer)
    except StopIteration as done:
        return True, done.value


async def _run_unit(steps: Generator[Run, Ran, Any], connection: AsyncConnection) -> Any:
    answer = None
    while True:
        try:
            step = steps.send(answer)
        except StopIteration as done:
            return done.value
        answer = await _execute(connection, step)


async def _execute(connection: AsyncConnection, step: Run) -> Ran:
    compiled = _compiled.get(id(step.statement))
    if compiled is None:
        compiled = _compiled[id(step.statement)] = Compiled.of(step.statement)
    cursor = await connection.execute(compiled.sql, compiled.parameters(step.values), prepare=True)
    # Whether rows came back, from the result's status: ``cursor.description`` would build a
    # column object for each field of every statement.
    returned = cursor.pgresult is not None and cursor.pgresult.status == pq.ExecStatus.TUPLES_OK
    rows = await cursor.fetchall() if returned else []
    return Ran(rows, cursor.rowcount)


async def _with_retries(
    pool: AsyncConnectionPool, work: Callable[[AsyncConnection], Awaitable[T]]
) -> T:
    # The pool replaces a broken connection; a store that did commit before its answer was
    # lost then finds nothing left to store, and the sequence answers as for a retry.
    for attempt in range(WRITE_ATTEMPTS):
        async with pool.connection() as connection:
            try:
                return await work(connection)
            except psycopg.Error as error:
                again = (
                    connection.broken
                    or isinstance(error, psycopg.IntegrityError)
                    or error.sqlstate in RETRY_SQLSTATES
                )
                if attempt == WRITE_ATTEMPTS - 1 or not again:
                    raise
        await asyncio.sleep(retry_pause_s(attempt))
    raise AssertionError("unreachable")
