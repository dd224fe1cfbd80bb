"""What every command needs: settings and an open, migrated database."""

from __future__ import annotations

from functools import lru_cache

from crowdscribe.settings import Settings, get_settings
from crowdscribe.storage.db import Database, open_database


@lru_cache(maxsize=1)
def database() -> Database:
    return open_database(get_settings().resolved_database_url)


def settings() -> Settings:
    return get_settings()


def flow_target() -> dict[str, str]:
    """The ``home`` and ``database_url`` a flow started by a command runs against, migrated."""
    database()
    home = get_settings()
    return {"home": str(home.home_dir), "database_url": home.resolved_database_url}


def check_project(name: str | None) -> None:
    """Refuse a ``--project`` naming no project (with the closest names), before any work."""
    if name is None:
        return
    from transcribe.projects import get_project

    with database().session() as session:
        get_project(session, name)
