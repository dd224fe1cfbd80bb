"""Queue tests run on SQLite, on PostgreSQL, and on PostgreSQL through the web server's async
path (``tests.transcribe.queue_paths``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crowdscribe.storage.db import Database
from tests.transcribe.queue_paths import drive_async


@pytest.fixture(params=["sqlite", "postgres", "postgres-async"])
def queue_database(request: pytest.FixtureRequest) -> Iterator[Database]:
    """A fresh database, and the path its claims and submits take in ``queue_for``."""
    backend = request.param.removesuffix("-async")
    database = request.getfixturevalue(f"{backend}_database")
    if request.param.endswith("-async"):
        queue = drive_async(database)
        yield database
        queue.close()
    else:
        yield database
