"""Where a flow or task finds its database: read where it runs, never passed as a parameter.

Flow and task parameters are stored by Prefect in plain text, so they carry only plain values
(paths, project, numbers); the database URL, which may hold a password, comes from the
environment of the process running the code: a Prefect Secret block named in
``CROWDSCRIBE_DATABASE_URL_SECRET``, else ``CROWDSCRIBE_DATABASE_URL``, else SQLite in the home.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Any

from sqlalchemy.exc import OperationalError

from crowdscribe.settings import Settings, settings_for
from crowdscribe.storage.db import Database

DATABASE_SECRET_ENV = "CROWDSCRIBE_DATABASE_URL_SECRET"


def database_url(home: str | None) -> str:
    """The database URL for the data home ``home`` in this process (see the module docstring)."""
    block = os.environ.get(DATABASE_SECRET_ENV)
    if block:
        return _secret_value(block)
    return settings_for(home).resolved_database_url


@lru_cache(maxsize=4)
def _secret_value(block: str) -> str:
    from prefect.blocks.system import Secret

    return str(Secret.load(block).get())


_ENGINES: dict[str, Database] = {}  # oldest first; at most MAX_ENGINES
MAX_ENGINES = 8
_ENGINES_LOCK = threading.Lock()


def task_database(home: str | None) -> Database:
    """The engine a task uses: one per worker (thread pool or process) and URL, reused across
    task runs; the flow has migrated the schema already (``migrate``)."""
    url = database_url(home)
    with _ENGINES_LOCK:
        if url not in _ENGINES:
            if len(_ENGINES) == MAX_ENGINES:
                _ENGINES.pop(next(iter(_ENGINES))).dispose()
            _ENGINES[url] = Database(url)
        return _ENGINES[url]


def retry_transient(_task: Any, _task_run: Any, state: Any) -> bool:
    """Retry only what a second try can fix: a lost database connection or a disk or network
    share error, never a bad input or a rule's refusal."""
    try:
        state.result()
    except (OperationalError, OSError):
        return True
    except Exception:  # noqa: BLE001 - anything else fails the same way again
        return False
    return False


def migrate(home: str | None) -> Settings:
    """Bring the database's schema up to date before any task writes to it; returns the
    settings of ``home`` for the flow's own plain values. It uses the tasks' engine, so a
    flow in the CLI's process opens one engine, not one for the check and one for the work."""
    task_database(home).migrate()
    return settings_for(home)


def dispose_engines() -> None:
    """Close every engine the tasks in this process opened (a CLI leaving after its flow)."""
    with _ENGINES_LOCK:
        for database in _ENGINES.values():
            database.dispose()
