"""What every flow and task needs: its settings and one database engine per worker and URL."""

from __future__ import annotations

from functools import lru_cache

from crowdscribe.settings import Settings
from crowdscribe.storage.db import Database, open_database


@lru_cache(maxsize=8)
def task_database(url: str) -> Database:
    """The engine a task uses: one per worker (thread pool or process) and URL, reused across
    task runs; the flow has migrated the schema already (``migrated_url``)."""
    return Database(url)


def migrated_url(settings: Settings, database_url: str | None) -> str:
    """The database URL a flow run uses (``database_url``, else the settings'), its schema
    brought up to date before any task writes to it."""
    url = database_url or settings.resolved_database_url
    open_database(url).dispose()
    return url
