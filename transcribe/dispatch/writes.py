"""Write transactions that stay correct when many people claim and submit at once.

SQLite allows one writer: a transaction that reads and then writes must take the write lock
*before* it reads (``BEGIN IMMEDIATE``), or two claimers could both read the same open slot.
Writers queue first on a lock of their own (in arrival order within a process, then on a file
lock across processes such as several web workers) rather than on SQLite's busy handler, which
polls with sleeps (docs/dispatch.md#sqlite-writer-lock). PostgreSQL locks rows instead
(``FOR UPDATE SKIP LOCKED`` in the claim), and a transaction that loses a race is run again.
"""

from __future__ import annotations

import contextvars
import fcntl
import os
import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from crowdscribe.storage.db import SQLITE_BUSY_TIMEOUT_MS

T = TypeVar("T")
LOCK_WAIT_S = 30.0
WRITE_ATTEMPTS = 8
LOOP_BUSY_TIMEOUT_MS = 10

# PostgreSQL: serialization_failure, deadlock_detected, lock_not_available.
RETRY_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


class WouldWait(Exception):
    """Raised inside ``without_waiting`` where the work would have to wait for another thread
    of this process: nothing was written, and the work can be run again in a worker thread."""


# Set while work runs on the web server's event loop: it must never wait for a lock that a
# worker thread holds, since that thread may itself be waiting for the event loop to finish
# its request (and commit).
_NO_WAITING: contextvars.ContextVar[bool] = contextvars.ContextVar("no_waiting", default=False)


@contextmanager
def without_waiting() -> Iterator[None]:
    """Run writes here only if no other thread of this process holds the writer lock; else raise
    ``WouldWait`` before anything is written. Other processes are still waited for (briefly):
    they never wait on this process in turn."""
    token = _NO_WAITING.set(True)
    try:
        yield
    finally:
        _NO_WAITING.reset(token)


class FairLock:
    """A lock handed to its waiters in arrival order, and, given a path, held across processes.

    ``threading.Lock`` lets a running thread barge past sleeping waiters; with dozens of writers
    queued that starves some of them for seconds. Here ``release`` hands ownership directly to
    the oldest waiter, so waits are bounded by the queue ahead. The holder then takes an
    exclusive ``flock`` on ``path``: the kernel wakes a waiting process as soon as it is
    released, where SQLite's busy handler would sleep for milliseconds.
    """

    def __init__(self, path: Path | None = None) -> None:
        self._guard = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False
        self._path = path
        self._fd: int | None = None

    def acquire(self, timeout: float = -1) -> bool:
        """Take the lock, waiting behind earlier callers; False if ``timeout`` s passed first."""
        if not self._acquire_here(timeout):
            return False
        try:
            self._acquire_across_processes()
        except BaseException:
            self._release_here()
            raise
        return True

    def release(self) -> None:
        """Hand the lock to the oldest waiter, or free it."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._release_here()

    def _acquire_here(self, timeout: float) -> bool:
        with self._guard:
            if not self._held:
                self._held = True
                return True
            if timeout == 0:
                return False
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

    def _acquire_across_processes(self) -> None:
        if self._path is None:
            return
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __del__(self) -> None:
        if self._fd is not None:
            os.close(self._fd)

    def _release_here(self) -> None:
        with self._guard:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False


_writer_locks: weakref.WeakKeyDictionary[Engine, FairLock] = weakref.WeakKeyDictionary()
_writer_locks_guard = threading.Lock()


def writer_lock(engine: Engine) -> FairLock | None:
    """For SQLite, the lock per engine that writers queue on before ``BEGIN IMMEDIATE``.

    SQLite's own busy handler polls with sleeps of up to 100 ms, which wrecks tail latency with
    dozens of writers; queueing on this lock hands the database over as soon as it is free. A
    database file gets a ``.writer-lock`` file beside it, so several processes queue too; writers
    that bypass it still serialise correctly through ``BEGIN IMMEDIATE`` and the busy timeout.
    """
    if engine.dialect.name != "sqlite":
        return None
    with _writer_locks_guard:
        lock = _writer_locks.get(engine)
        if lock is None:
            database = engine.url.database
            on_disk = database and database != ":memory:" and not database.startswith("file:")
            path = Path(database + ".writer-lock") if on_disk else None
            lock = _writer_locks[engine] = FairLock(path)
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
        _begin_immediate(connection)


def _begin_immediate(connection: Connection) -> None:
    if not _NO_WAITING.get():
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        return
    # A writer that skipped the writer lock (a page's own session) may hold SQLite's lock while
    # its thread waits for the event loop: give up after a few milliseconds rather than stall
    # the loop. Not at once: SQLite also answers "busy" for a moment while another connection
    # updates the WAL index, and each give-up sends a request through a worker thread.
    dbapi_connection = connection.connection.dbapi_connection
    dbapi_connection.execute(f"PRAGMA busy_timeout={LOOP_BUSY_TIMEOUT_MS}")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except OperationalError as error:
        if "locked" in str(error.orig).lower() or "busy" in str(error.orig).lower():
            raise WouldWait("another connection holds the SQLite write lock") from error
        raise
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


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
    _begin_immediate(connection)


def _acquire(lock: FairLock) -> None:
    if _NO_WAITING.get():
        if not lock.acquire(timeout=0):
            raise WouldWait("another thread of this process holds the SQLite writer lock")
        return
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
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True  # the server dropped the connection (a restart): go again on a new one
    if isinstance(error, OperationalError):
        message = str(error.orig).lower()
        if "locked" in message or "busy" in message:
            return True
    if isinstance(error, DBAPIError):
        return getattr(error.orig, "sqlstate", None) in RETRY_SQLSTATES
    return False


def retry_pause_s(attempt: int) -> float:
    """How long to wait before running again a transaction that lost a race ``attempt + 1``
    times: random (so the losers do not collide again), doubling with each loss."""
    return random.uniform(0, 0.002 * 2**attempt)


def run_write(
    connection: Connection, work: Callable[[Connection], T], attempts: int = WRITE_ATTEMPTS
) -> T:
    """Run ``work`` as one write transaction on ``connection`` and commit (roll back if it
    returns None), retrying when it loses a race. The caller checks the connection out first:
    a lock holder must never wait for the pool."""
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
            time.sleep(retry_pause_s(attempt))
    raise AssertionError("unreachable")


def _run_once(connection: Connection, work: Callable[[Connection], T]) -> T:
    begin_write(connection)
    try:
        result = work(connection)
        if result is None:
            connection.rollback()
        else:
            connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return result
