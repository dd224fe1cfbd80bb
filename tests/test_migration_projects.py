"""Migration 0003_coord_people: projects already named by collected data become records, and it
downgrades cleanly (adjustment entries go, as 0002 cannot hold them)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from crowdscribe.storage.db import MIGRATIONS_DIR, Database


def _run(database: Database, action, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        action(config, revision)


def test_projects_in_use_become_records_and_it_downgrades(database: Database) -> None:
    _run(database, command.downgrade, "0002")
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO recordings (id, source, source_path, status, language, speaker_group,"
                " project, clip_count, created_at, updated_at) VALUES (1, 'a.wav', '/a.wav',"
                " 'segmented', 'en', 'adult', 'river', 1, :now, :now)"
            ),
            {"now": "2026-01-01 00:00:00"},
        )
        connection.execute(
            text(
                "INSERT INTO clips (id, recording_id, start_s, end_s, duration_s, audio_path,"
                " language, speaker_group, project, status, priority, created_at) VALUES"
                " ('c1', 1, 0, 2, 2, 'clips/c1.flac', 'en', 'adult', 'lake', 'collected', 0, :now)"
            ),
            {"now": "2026-01-01 00:00:00"},
        )
    _run(database, command.upgrade, "head")
    with database.engine.connect() as connection:
        names = connection.execute(text("SELECT name, overlap FROM projects ORDER BY name")).all()
    assert [tuple(row) for row in names] == [("lake", 2), ("river", 2)]
    _run(database, command.downgrade, "0002")
    with database.engine.connect() as connection:
        tables = database.engine.dialect.get_table_names(connection)
    assert "projects" not in tables
    _run(database, command.upgrade, "head")
