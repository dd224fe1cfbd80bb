"""``crowdscribe demo`` as the README's first command runs it: no options, a fresh data home."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from tests.commands import crowdscribe


def test_demo_with_no_options_publishes_the_samples_at_the_default_overlap(
    tmp_path: Path, prefect_server: str
) -> None:
    env = {
        **os.environ,
        "CROWDSCRIBE_HOME": str(tmp_path / "home"),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_URL": prefect_server,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "COLUMNS": "200",
    }
    env.pop("CROWDSCRIBE_DEFAULT_OVERLAP", None)
    demo = crowdscribe(env, "demo")
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "Demo people" in demo.stdout and "Traceback" not in demo.stderr
    with sqlite3.connect(tmp_path / "home" / "crowdscribe.db") as db:
        overlaps = {row[0] for row in db.execute("select overlap from projects")}
        published = db.execute("select count(*) from clips where status = 'published'").fetchone()
    assert overlaps == {2}
    assert published[0] > 0
