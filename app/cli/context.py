"""What every command needs: settings and an open, migrated database."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING

from app.cli.prefect_server import flow_api
from crowdscribe.settings import Settings, get_settings

if TYPE_CHECKING:
    from crowdscribe.storage.db import Database


@lru_cache(maxsize=1)
def database() -> Database:
    from crowdscribe.storage.db import open_database

    return open_database(get_settings().resolved_database_url)


def settings() -> Settings:
    return get_settings()


@contextmanager
def flow_target() -> Iterator[dict[str, str]]:
    """While open, flows run against a Prefect server (``prefect_server.flow_api``); yields the
    ``home`` they run against (each flow migrates its database first). A flow finds the database
    URL in this process's environment, as the command did, so no secret becomes a run parameter."""
    home = get_settings().home_dir
    with flow_api(home):
        yield {"home": str(home)}


def close_databases() -> None:
    """Close the command's connections (and the flows' engines, if a flow ran here)."""
    if database.cache_info().currsize:
        database().dispose()
    runtime = sys.modules.get("flows._runtime")
    if runtime is not None:
        runtime.dispose_engines()


def check_project(name: str | None) -> None:
    """Refuse a ``--project`` naming no project (with the closest names), before any work."""
    if name is None:
        return
    from transcribe.projects import get_project

    with database().session() as session:
        get_project(session, name)
