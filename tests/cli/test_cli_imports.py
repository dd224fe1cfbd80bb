"""A command loads only what it uses: help and the commands that run no flow never import
Prefect (1.5 s of a command's start), and no command loads audio or export libraries it does
not need."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("prefect", "alembic", "numpy", "soundfile", "librosa", "torch", "fastapi", "uvicorn")
# Runs the CLI as the `crowdscribe` script does, then reports which heavy packages it loaded.
PROBE = """
import json, sys
sys.argv = ["crowdscribe", *sys.argv[1:]]
from app.cli import main
try:
    main()
except SystemExit:
    pass
loaded = {name.split(".")[0] for name in sys.modules}
print(json.dumps(sorted(loaded & set(json.loads(sys.stdin.read())))), file=sys.stderr)
"""


def loaded_by(home: Path, *args: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CROWDSCRIBE_"))}
    env.update(CROWDSCRIBE_HOME=str(home))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        input=json.dumps(HEAVY),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data home whose database exists and is migrated (a first command creates it)."""
    home = tmp_path_factory.mktemp("imports") / "home"
    loaded_by(home, "users", "list")
    return home


@pytest.mark.parametrize(
    "args",
    [("--help",), ("users", "list"), ("projects", "list"), ("status",), ("rates",)],
)
def test_commands_without_a_flow_load_no_prefect(home: Path, args: tuple[str, ...]) -> None:
    assert loaded_by(home, *args) == []
