"""Fixtures for commands run in-process (typer's CliRunner) against a data home of their own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
import typer
from click.testing import Result
from typer.testing import CliRunner

from app.cli import context, output
from crowdscribe.settings import get_settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data home of our own, seen by the commands through CROWDSCRIBE_HOME."""
    monkeypatch.setenv("CROWDSCRIBE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CROWDSCRIBE_DATABASE_URL", raising=False)
    monkeypatch.delenv("CROWDSCRIBE_RATES_FILE", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    # Rich reads COLUMNS once, when the console is made (at import, whichever test came first).
    monkeypatch.setattr(output.console, "width", 200)
    get_settings.cache_clear()
    context.database.cache_clear()
    yield get_settings().home_dir
    context.database().dispose()
    context.database.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def run_commands(home: Path) -> Callable[[ModuleType], Callable[..., Result]]:
    """Given a ``*_cmds`` module, a function that runs its commands: ``run("rates", "--format",
    "json")`` returns click's result (exit code, output, exception)."""

    def commands_of(module: ModuleType) -> Callable[..., Result]:
        app = typer.Typer()
        module.register(app)
        runner = CliRunner()
        return lambda *args: runner.invoke(app, list(args))

    return commands_of
