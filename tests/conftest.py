"""Shared fixtures: a fresh database per test, on SQLite or on the local PostgreSQL, each a copy of
one migrated once per session."""

from __future__ import annotations

import os
import queue
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import prefect.context
import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.testing.utilities import prefect_test_harness
from sqlalchemy import create_engine, text

from crowdscribe.settings import Settings
from crowdscribe.storage.db import Database, open_database

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

DATA_DIR = Path(__file__).parent / "data"
POSTGRES_ADMIN_URL = os.environ.get(
    "CROWDSCRIBE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose data home is a fresh temporary folder (SQLite inside it)."""
    return Settings(home=tmp_path / "home", secret_key="test-secret")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; each test starts from a copy of it."""
    path = tmp_path_factory.mktemp("sqlite-template") / "crowdscribe.db"
    open_database(f"sqlite:///{path}").dispose()  # the last connection folds the WAL back in
    return path


@pytest.fixture
def sqlite_database(settings: Settings, sqlite_template: Path) -> Iterator[Database]:
    """A fresh, migrated SQLite database where ``settings`` expects it."""
    path = settings.home_dir / "crowdscribe.db"
    shutil.copyfile(sqlite_template, path)
    database = Database(settings.resolved_database_url)
    yield database
    database.dispose()


class PostgresServer:
    """The test server: one database migrated per session, a clone of it per test (cloning
    takes a fraction of migrating), made ahead in the background while tests run (CREATE
    DATABASE waits on the server's disk, not on our CPU) and dropped one after another in the
    background."""

    CLONES_AHEAD = 2

    def __init__(self, admin_url: str) -> None:
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.template = f"cs_template_{uuid.uuid4().hex[:12]}"
        self._drops: queue.Queue[str | None] = queue.Queue()
        self._dropper = threading.Thread(target=self._drop_queued, daemon=True)
        self._ready: queue.Queue[str | Exception] = queue.Queue(maxsize=self.CLONES_AHEAD)
        self._cloner = threading.Thread(target=self._clone_ahead, daemon=True)
        self._stopping = threading.Event()

    def url(self, name: str) -> str:
        return self.admin.url.set(database=name).render_as_string(hide_password=False)

    def start(self) -> None:
        self._execute(f'CREATE DATABASE "{self.template}"')
        open_database(self.url(self.template)).dispose()
        self._dropper.start()

    def clone(self) -> str:
        if self._cloner.ident is None:  # first use: workers without PostgreSQL tests make none
            self._cloner.start()
        made = self._ready.get()
        if isinstance(made, Exception):
            raise made
        return made

    def drop_later(self, name: str) -> None:
        self._drops.put(name)

    def stop(self) -> None:
        self._stopping.set()
        if self._cloner.is_alive():
            self._drop_ready()  # frees the cloner if it waits to hand one over
            self._cloner.join()
        self._drop_ready()
        self._drops.put(None)
        self._dropper.join()
        self._execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self.admin.dispose()

    def _clone_ahead(self) -> None:
        while not self._stopping.is_set():
            made: str | Exception = f"cs_test_{uuid.uuid4().hex[:12]}"
            try:
                self._execute(f'CREATE DATABASE "{made}" TEMPLATE "{self.template}"')
            except Exception as error:  # noqa: BLE001 - every test waiting for one must say why
                made = error
            self._ready.put(made)

    def _drop_ready(self) -> None:
        while True:
            try:
                made = self._ready.get_nowait()
            except queue.Empty:
                return
            if isinstance(made, str):
                self.drop_later(made)

    def _drop_queued(self) -> None:
        while (name := self._drops.get()) is not None:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _execute(self, statement: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(statement))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer(POSTGRES_ADMIN_URL)
    try:
        server.start()
    except Exception as error:  # noqa: BLE001 - a missing server must say so, not pass
        pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable: {error}")
    yield server
    server.stop()


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> Iterator[Database]:
    """A throw-away PostgreSQL database, already migrated, dropped after the test."""
    name = postgres_server.clone()
    database = Database(postgres_server.url(name))
    yield database
    database.dispose()
    postgres_server.drop_later(name)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> Database:
    """The same test on both supported databases."""
    return request.getfixturevalue(f"{request.param}_database")


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[str]:
    """The Prefect server flows report to; yields its API URL so CLI commands run as
    subprocesses can use it too (``PREFECT_API_URL``). ``.ci/run`` starts one for all its workers
    and both passes and names it in CROWDSCRIBE_TEST_PREFECT_API_URL (a server costs seconds to
    start and CPU while it runs); else a temporary one per pytest-xdist worker."""
    if url := os.environ.get("CROWDSCRIBE_TEST_PREFECT_API_URL"):
        # As the harness does: the settings also for contexts copied earlier (threads, loops).
        with (
            temporary_settings(updates={PREFECT_API_URL: url}),
            prefect.context._temporary_global_settings_context(
                prefect.context.get_settings_context()
            ),
        ):
            yield url
        return
    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()
