"""``crowdscribe users`` and ``crowdscribe gold`` run as a coordinator runs them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from crowdscribe.settings import Settings
from crowdscribe.storage.db import open_database
from tests.builders import add_clips
from tests.commands import crowdscribe as run
from transcribe.users import authenticate_token


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "CROWDSCRIBE_HOME": str(tmp_path / "home"), "COLUMNS": "200"}


def test_adding_people_prints_a_working_token_once(env) -> None:
    made = run(
        env,
        "users",
        "add",
        "ann",
        "--role",
        "transcriber,reviewer",
        "--languages",
        "en,yue",
        "--qualified",
        "en",
        "--json",
    )
    assert made.returncode == 0, made.stderr
    printed = json.loads(made.stdout)
    assert printed["name"] == "ann"
    home = Settings(home=Path(env["CROWDSCRIBE_HOME"]))
    database = open_database(home.resolved_database_url)
    with database.session() as session:
        assert authenticate_token(session, printed["token"]).name == "ann"
    database.dispose()
    bob = run(
        env, "users", "add", "bob", "--role", "coordinator", "--password-stdin", stdin="s3cret\n"
    )
    assert bob.returncode == 0 and "shown once" in bob.stdout
    again = run(env, "users", "add", "ann", "--role", "transcriber")
    assert again.returncode == 2 and "already exists" in again.stderr

    listed = [
        json.loads(line)
        for line in run(env, "users", "list", "--format", "jsonl").stdout.splitlines()
    ]
    ann = next(row for row in listed if row["name"] == "ann")
    assert ann["roles"] == ["reviewer", "transcriber"]
    assert [q["language"] for q in ann["qualifications"]] == ["en"]
    table = run(env, "users", "list").stdout
    assert "ann" in table and "bob" in table and "coordinator" in table


def test_gold_import_reports_bad_rows_and_imports_nothing(env, tmp_path: Path) -> None:
    home = Settings(home=Path(env["CROWDSCRIBE_HOME"]))
    database = open_database(home.resolved_database_url)
    with database.session() as session:
        clips = add_clips(session, 2)
    database.dispose()
    bad = tmp_path / "gold.csv"
    bad.write_text(f"clip_id,text\n{clips[0]},hello world\nnope,hi\n")
    refused = run(env, "gold", "import", str(bad))
    assert refused.returncode == 2
    assert "line 3: there is no clip nope" in refused.stderr
    good = tmp_path / "good.csv"
    good.write_text(f"clip_id,text\n{clips[0]},hello world\n")
    assert "imported 1 gold clip" in run(env, "gold", "import", str(good)).stdout
    added = run(env, "gold", "add", clips[1], "--text", "um [laugh] yes")
    assert added.returncode == 0, added.stderr
    assert run(env, "gold", "add", clips[1], "--text", "[nosie]").returncode == 2
