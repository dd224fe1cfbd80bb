"""Run a ``crowdscribe`` command inside the test process, through the script's own entry
(``app.cli.commands.run``: the same one-line errors and exit codes), with the given
environment, stdin and captured output; it spares each command the 2-3 s a new process spends
importing. Tests about the process itself (signals, servers, what it imports) keep starting
the script."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from unittest import mock

from click.testing import CliRunner

from app.cli import commands, context, output
from crowdscribe.settings import get_settings


def crowdscribe(
    env: Mapping[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``crowdscribe ARGS`` with ``env`` as the whole environment, as ``subprocess.run`` would
    run it with ``capture_output=True, text=True``."""
    overrides: dict[str, str | None] = {name: None for name in os.environ if name not in env}
    overrides.update(env)
    width = int(env.get("COLUMNS", "80"))
    consoles = (output.console, commands.err_console)
    widths = [console.width for console in consoles]
    with (
        CliRunner().isolation(input=stdin, env=overrides) as (stdout, stderr, _),
        mock.patch.object(sys, "argv", ["crowdscribe", *args]),
    ):
        for console in consoles:
            console.width = width  # rich reads COLUMNS once, when the console is made
        _forget_settings()
        try:
            returncode = commands.run()
        except SystemExit as stop:
            returncode = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
        finally:
            context.close_databases()
            _forget_settings()
            for console, previous in zip(consoles, widths, strict=True):
                console.width = previous
            sys.stdout.flush()
            sys.stderr.flush()
        return subprocess.CompletedProcess(
            ["crowdscribe", *args],
            returncode,
            stdout.getvalue().decode(),
            stderr.getvalue().decode(errors="backslashreplace"),
        )


def _forget_settings() -> None:
    """Settings and the database are cached per process; each command reads its own."""
    get_settings.cache_clear()
    context.database.cache_clear()
