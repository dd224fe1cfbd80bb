"""Every command brings its database to the newest revision, and one already there is only read:
the check needs no Alembic (importing it and reading its scripts cost each command 0.25 s)."""

from __future__ import annotations

import subprocess
import sys

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from crowdscribe.storage.db import MIGRATIONS_DIR, Database, schema_head


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _revision(database: Database) -> str:
    with database.engine.connect() as connection:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def test_the_head_read_from_the_files_is_alembics() -> None:
    assert ScriptDirectory.from_config(_config()).get_heads() == [schema_head()]


def test_a_database_behind_the_head_is_upgraded(database: Database) -> None:
    config = _config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003_coord_people")
    assert _revision(database) == "0003_coord_people"

    database.migrate()

    assert _revision(database) == schema_head()


def test_a_database_at_the_head_is_opened_without_alembic(sqlite_database: Database) -> None:
    probe = (
        "import sys\n"
        "from crowdscribe.storage.db import open_database\n"
        f"open_database({sqlite_database.url!r}).dispose()\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'alembic'))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
