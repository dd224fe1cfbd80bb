"""The ``crowdscribe`` command. Each module registers one group of sub-commands."""

from __future__ import annotations

import sys

import click
import typer
from rich.console import Console

from app.cli import prefect_server
from audio.errors import AudioError
from crowdscribe.errors import Refusal

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Crowdsourced verbatim transcription: collect, dispatch, agree, review, pay, export.",
)
err_console = Console(stderr=True)


def _register_commands() -> None:
    from app.cli import (
        collect_cmds,
        demo_cmds,
        pay_cmds,
        people_cmds,
        prefect_cmds,
        review_cmds,
        work_cmds,
    )

    for module in (
        collect_cmds,
        people_cmds,
        work_cmds,
        review_cmds,
        pay_cmds,
        demo_cmds,
        prefect_cmds,
    ):
        module.register(app)


def main() -> None:
    """Entry point: runs the command and turns domain refusals into one-line errors (exit 2)."""
    prefect_server.quiet_prefect_defaults()
    _register_commands()
    try:
        # Outside standalone mode click *returns* a typer.Exit's code rather than raising it.
        exit_code = app(standalone_mode=False)
    except (Refusal, AudioError) as refusal:
        err_console.print(f"[red]error:[/red] {refusal}")
        sys.exit(2)
    except click.ClickException as usage_error:
        usage_error.show()
        sys.exit(usage_error.exit_code)
    except click.exceptions.Abort:
        sys.exit(1)
    sys.exit(exit_code if isinstance(exit_code, int) else 0)
