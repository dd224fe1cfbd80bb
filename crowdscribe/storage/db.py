"""Engine and session set-up, and bringing a database schema up to date."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# `revision = "0003_coord_money"` in a migration file; its down_revision names the one before.
_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"[\"']([^\"']+)[\"']")
SQLITE_POOL_SIZE = 50
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Connections per web server process for claims and submits on PostgreSQL. Each is busy for one
# statement at a time, so a few keep PostgreSQL's backends fed while the process parses and
# answers other requests; more only add backends competing for the same cores.
ASYNC_POOL_SIZE = 4
ASYNC_POOL_NAME = "crowdscribe-claims"
# Long enough to ride through a PostgreSQL restart (about 3 s here); past it a request answers
# 503 at once instead of holding its client for psycopg_pool's default 30 s.
ASYNC_POOL_WAIT_S = 5.0
# No JIT: it pays off for long analytical queries, and ours are short ones. The claim's cost
# estimate (it cannot know how few slots a pick reads) crossed jit_above_cost, and compiling it
# took 20 ms on every execution, a hundred times the claim itself.
POSTGRES_OPTIONS = "-c jit=off"


def _tune_sqlite(dbapi_connection, _record) -> None:
    # WAL lets readers (web pages, `crowdscribe clips`) run while a flow writes; the busy
    # timeout makes concurrent writers queue instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL and a busy timeout, PostgreSQL uses psycopg 3."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        # A connection for every worker thread (40 in the web app): SQLite connections are cheap,
        # and a thread that waits on the pool's queue can be passed over for seconds.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=20,
        )
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    # A ping on checkout: after a server restart every pooled connection is dead, and without
    # it each one failed a request once (claims and submits take the async pool, not this one).
    # 30 per process keeps two web workers plus the CLI under PostgreSQL's default 100.
    return create_engine(
        url,
        pool_size=20,
        max_overflow=10,
        pool_recycle=1800,
        pool_pre_ping=True,
        connect_args={"options": POSTGRES_OPTIONS},
    )


async def open_async_pool(url: str, size: int = ASYNC_POOL_SIZE) -> AsyncConnectionPool:
    """PostgreSQL: psycopg async connections in autocommit, rows with named columns, for work
    that must not block an event loop (``transcribe.dispatch.async_runner``). Close it when done."""
    from psycopg.rows import namedtuple_row
    from psycopg_pool import AsyncConnectionPool

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    pool = AsyncConnectionPool(
        conninfo,
        min_size=size,
        max_size=size,
        timeout=ASYNC_POOL_WAIT_S,
        # Named, so an operator can tell these connections apart in pg_stat_activity.
        kwargs={
            "autocommit": True,
            "row_factory": namedtuple_row,
            "application_name": ASYNC_POOL_NAME,
            "options": POSTGRES_OPTIONS,
        },
        open=False,
    )
    await pool.open(wait=True)
    return pool


@lru_cache(maxsize=1)
def schema_head() -> str | None:
    """The newest revision among the migration files, read from their text (importing Alembic
    and running its script directory costs a command a quarter second); None unless exactly
    one revision is the head."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for name, value in _REVISION_LINE.findall(script.read_text()):
            (revisions if name == "revision" else parents).update(_QUOTED.findall(value))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _at_head(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            stamped = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DatabaseError:  # no alembic_version table yet: an empty database
        return False
    head = schema_head()
    return head is not None and [row.version_num for row in stamped] == [head]


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (creates it on an empty database); a
    database already there is only read, so every command can call this cheaply."""
    if _at_head(engine):
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class Database:
    """An engine plus its session factory: what the CLI, web app and flows share."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = make_session_factory(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        migrate(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on error."""
        with session_scope(self.sessions) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str) -> Database:
    """Connect and migrate: every entry point opens the database through this."""
    database = Database(url)
    database.migrate()
    return database
