"""Claims and submits on a SQLAlchemy connection: the CLI, the pages, and SQLite everywhere."""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from crowdscribe.clock import utc_now
from crowdscribe.storage.db import Database
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
from transcribe.dispatch.writes import begin_session_write, run_write

T = TypeVar("T")
Writer = Callable[[Callable[[Connection], Any]], Any]


def claim_next_clip(
    db: Database,
    asker: Asker,
    *,
    language: str | None = None,
    now: datetime | None = None,
    lease_s: float = 600,
    gold_rate: float = 0.0,
) -> Claim | NoWork:
    """Atomically lease the next slot for a person: highest priority, then oldest, in a language
    they are qualified in, never a clip they have had before; sometimes a gold clip instead."""
    gold = gold_rate > 0 and random.random() < gold_rate
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Each statement its own transaction: a claim is one atomic statement.
            connection.execution_options(isolation_level="AUTOCOMMIT")
        sequence = claim_sequence(
            connection.dialect.name, asker, language, utc_now(now), lease_s, gold
        )
        return drive(sequence, lambda: connection, lambda work: run_write(connection, work))


def submit_transcript(
    session: Session,
    assignment_id: str,
    asker: Asker,
    text: str,
    request_id: str,
    now: datetime,
) -> Receipt:
    """Store and commit a person's transcript once per ``request_id`` (a retry returns the same
    receipt); a counted one accrues the clip's price in the ledger. Work begun in ``session``
    commits with it."""
    sequence = submit_sequence(
        session.get_bind().dialect.name, assignment_id, asker, text, request_id, utc_now(now)
    )
    return drive(sequence, lambda: _submit_connection(session), _session_writer(session))


def submit_in_own_session(
    database: Database, assignment_id: str, user_id: int, text: str, request_id: str, now: datetime
) -> Receipt:
    """``submit_transcript`` in a session of its own, closed before returning: the transcript (a
    late one too) is committed before the answer goes back."""
    with database.session() as session:
        return submit_transcript(session, assignment_id, user_id, text, request_id, now)


def drive(sequence: Sequence[T], connect: Callable[[], Connection], write: Writer) -> T:
    """Run a sequence: each ``Run`` on ``connect()``, each ``Write`` through ``write``."""
    answer = None
    while True:
        try:
            step = sequence.send(answer)
        except StopIteration as done:
            return done.value
        if isinstance(step, Write):
            answer = write(lambda connection, unit=step: _run_unit(unit.steps(), connection))
        else:
            answer = _execute(connect(), step)


def _run_unit(steps: Generator[Run, Ran, Any], connection: Connection) -> Any:
    answer = None
    while True:
        try:
            step = steps.send(answer)
        except StopIteration as done:
            return done.value
        answer = _execute(connection, step)


def _execute(connection: Connection, step: Run) -> Ran:
    result = connection.execute(step.statement, step.values)
    return Ran(result.all() if result.returns_rows else [], result.rowcount)


def _submit_connection(session: Session) -> Connection:
    # PostgreSQL stores a submission in one statement, so a session with nothing begun reads
    # and writes in autocommit: no BEGIN and COMMIT round trips.
    session.flush()
    if session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return session.connection()
    return session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _session_writer(session: Session) -> Writer:
    # The caller's session may carry work of its own: never run again, committed with ours.
    def write(work: Callable[[Connection], Any]) -> Any:
        begin_session_write(session)
        try:
            result = work(_submit_connection(session))
        except BaseException:
            session.rollback()
            raise
        if result is None:
            session.rollback()
        else:
            session.commit()
        return result

    return write
