"""Write transactions that stay correct when many people claim and submit at once.

SQLite allows one writer: a transaction that reads and then writes must take the write lock
*before* it reads (``BEGIN IMMEDIATE``), or two claimers could both read the same open slot.
PostgreSQL locks rows instead (``FOR UPDATE [SKIP LOCKED]`` in the callers), and a transaction
that loses a race is retried.
"""

from __future__ import annotations

import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

T = TypeVar("T")
LOCK_WAIT_S = 30.0

# PostgreSQL: serialization_failure, deadlock_detected, lock_not_available.
_RETRY_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


class FairLock:
    """A lock handed to its waiters in arrival order.

    ``threading.Lock`` lets a running thread barge past sleeping waiters; with dozens of writers
    queued that starves some of them for seconds. Here ``release`` hands ownership directly to
    the oldest waiter, so waits are bounded by the queue ahead.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self, timeout: float = -1) -> bool:
        """Take the lock, waiting behind earlier callers; False if ``timeout`` s passed first."""
        with self._guard:
            if not self._held:
                self._held = True
                return True
            waiter = threading.Lock()
            waiter.acquire()
            self._waiters.append(waiter)
        if waiter.acquire(timeout=timeout):
            return True
        with self._guard:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
                return False
        return True  # handed over between the timeout and the guard: ours now

    def release(self) -> None:
        """Hand the lock to the oldest waiter, or free it."""
        with self._guard:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False


_writer_locks: weakref.WeakKeyDictionary[Engine, FairLock] = weakref.WeakKeyDictionary()
_writer_locks_guard = threading.Lock()


def as_utc(moment: datetime) -> datetime:
    """A timezone-aware UTC datetime (SQLite hands back naive UTC values)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def utc_now(now: datetime | None = None) -> datetime:
    """``now`` in UTC, or the current time."""
    return datetime.now(UTC) if now is None else as_utc(now)


def writer_lock(engine: Engine) -> FairLock | None:
    """For SQLite, a process-wide lock per engine that writers queue on before ``BEGIN IMMEDIATE``.

    SQLite's own busy handler polls with sleeps of up to 100 ms, which wrecks tail latency with
    dozens of writers; queueing on a Python lock hands the database over as soon as it is free.
    Other processes still serialise correctly through ``BEGIN IMMEDIATE`` and the busy timeout.
    """
    if engine.dialect.name != "sqlite":
        return None
    with _writer_locks_guard:
        lock = _writer_locks.get(engine)
        if lock is None:
            lock = _writer_locks[engine] = FairLock()
        return lock


def begin_write(connection: Connection) -> None:
    """On SQLite take the write lock now, unless this connection already writes.

    SQLAlchemy's pysqlite driver leaves the DBAPI in its legacy mode, where SELECTs run outside
    any transaction and ``BEGIN`` is only emitted before the first INSERT/UPDATE; issuing
    ``BEGIN IMMEDIATE`` ourselves makes the whole read-then-write unit hold the lock.
    """
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def begin_session_write(session: Session) -> None:
    """``begin_write`` for the connection under an ORM session, holding the per-engine writer
    lock until the session's transaction ends (commit or rollback)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if connection.connection.dbapi_connection.in_transaction:
        return
    lock = writer_lock(connection.engine)
    if lock is not None and not session.info.get("writer_lock_held"):
        _acquire(lock)
        session.info["writer_lock_held"] = lock
        _release_when_transaction_ends(session)
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _acquire(lock: FairLock) -> None:
    if not lock.acquire(timeout=LOCK_WAIT_S):
        raise TimeoutError(
            f"waited {LOCK_WAIT_S:.0f} s for the SQLite write lock; a transaction in this process "
            "holds it (commit a submission before claiming the next clip in the same request)"
        )


@contextmanager
def _holding(lock: FairLock) -> Iterator[None]:
    _acquire(lock)
    try:
        yield
    finally:
        lock.release()


def _release_when_transaction_ends(session: Session) -> None:
    from sqlalchemy import event

    if session.info.get("writer_lock_listener"):
        return
    session.info["writer_lock_listener"] = True

    def release(session: Session, transaction) -> None:
        if transaction.parent is None:
            held = session.info.pop("writer_lock_held", None)
            if held is not None:
                held.release()

    event.listen(session, "after_transaction_end", release)


def is_retryable(error: Exception) -> bool:
    """Whether a failed transaction lost a race and may simply be run again."""
    if isinstance(error, IntegrityError):
        return True  # e.g. the same person claiming twice at once: unique(clip_id, user_id)
    if isinstance(error, OperationalError):
        message = str(error.orig).lower()
        if "locked" in message or "busy" in message:
            return True
    if isinstance(error, DBAPIError):
        return getattr(error.orig, "sqlstate", None) in _RETRY_SQLSTATES
    return False


def run_write(connection: Connection, work: Callable[[Connection], T], attempts: int = 8) -> T:
    """Run ``work`` as one write transaction on ``connection`` and commit, retrying when it loses
    a race. The caller checks the connection out first: a lock holder must never wait for the
    pool."""
    lock = writer_lock(connection.engine)
    for attempt in range(attempts):
        try:
            if lock is None:
                return _run_once(connection, work)
            with _holding(lock):
                return _run_once(connection, work)
        except DBAPIError as error:
            if attempt == attempts - 1 or not is_retryable(error):
                raise
            time.sleep(random.uniform(0, 0.002 * 2**attempt))
    raise AssertionError("unreachable")


def _run_once(connection: Connection, work: Callable[[Connection], T]) -> T:
    begin_write(connection)
    try:
        result = work(connection)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return result
