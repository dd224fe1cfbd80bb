"""Shared fixtures: a fresh database per test, on SQLite or on the local PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL
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


@pytest.fixture
def sqlite_database(settings: Settings) -> Iterator[Database]:
    database = open_database(settings.resolved_database_url)
    yield database
    database.dispose()


@pytest.fixture
def postgres_database() -> Iterator[Database]:
    """A throw-away PostgreSQL database, dropped after the test."""
    name = f"cs_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - a missing server must say so, not pass
        pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable: {error}")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    database = open_database(url)
    yield database
    database.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> Database:
    """The same test on both supported databases."""
    return request.getfixturevalue(f"{request.param}_database")


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[str]:
    """One temporary Prefect server for the whole run (it takes seconds to start); yields its
    API URL so CLI commands run as subprocesses can use it too (``PREFECT_API_URL``)."""
    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()
