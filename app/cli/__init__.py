"""The ``crowdscribe`` command. Each module registers one group of sub-commands."""

from __future__ import annotations

import functools
import logging
import os
import sys

import click
import typer
from rich.console import Console
from rich.markup import escape
from typer._click import exceptions as typer_click

from app.cli import context, prefect_server
from audio.errors import AudioError
from crowdscribe.errors import Refusal

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Crowdsourced verbatim transcription: collect, dispatch, agree, review, pay, export.",
)
err_console = Console(stderr=True)


@functools.cache  # once per process: `run` may be called again (tests run commands in-process)
def _register_commands() -> None:
    from app.cli import (
        collect_cmds,
        demo_cmds,
        pay_cmds,
        payout_cmds,
        people_cmds,
        prefect_cmds,
        project_cmds,
        review_cmds,
        status_cmds,
        stuck_cmds,
        work_cmds,
    )

    for module in (
        collect_cmds,
        people_cmds,
        project_cmds,
        work_cmds,
        review_cmds,
        stuck_cmds,
        pay_cmds,
        payout_cmds,
        status_cmds,
        demo_cmds,
        prefect_cmds,
    ):
        module.register(app)


def main() -> None:
    """Entry point: runs the command, then leaves (``_leave``)."""
    _leave(run())


def run() -> int:
    """Run the command in ``sys.argv`` and return its exit code, staying in this process (tests
    run commands so); refusals and usage errors become one line on stderr and exit 2 (typer 0.29
    raises its own copies of click's exceptions, so both are caught)."""
    prefect_server.quiet_prefect_defaults()
    _register_commands()
    try:
        # Outside standalone mode click *returns* a typer.Exit's code rather than raising it.
        exit_code = app(standalone_mode=False)
    except (Refusal, AudioError) as refusal:
        _one_line_error(str(refusal))
        sys.exit(2)
    except (typer_click.NoArgsIsHelpError, click.exceptions.NoArgsIsHelpError) as help_shown:
        help_shown.show()
        sys.exit(2)
    except (typer_click.UsageError, click.UsageError) as usage_error:
        command = usage_error.ctx.command_path if usage_error.ctx else "crowdscribe"
        _one_line_error(f"{usage_error.format_message()} (see `{command} --help`)")
        sys.exit(2)
    except (typer_click.ClickException, click.ClickException) as failure:
        _one_line_error(failure.format_message())
        sys.exit(failure.exit_code)
    except (typer.Exit, click.exceptions.Exit) as stop:
        sys.exit(stop.exit_code)
    except (typer.Abort, click.exceptions.Abort, KeyboardInterrupt):
        sys.exit(1)
    return exit_code if isinstance(exit_code, int) else 0


def _leave(exit_code: int) -> None:
    """Exit; after a flow, without tearing the interpreter down. Freeing the two thousand modules
    Prefect brings costs half a second of CPU, and nothing is left to do by then: the flow's logs
    and events are sent (``prefect_server.flow_api``), the connections are closed here and the
    output is flushed."""
    if "prefect" not in sys.modules:
        sys.exit(exit_code)
    context.close_databases()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)


def _one_line_error(message: str) -> None:
    err_console.print(f"[red]error:[/red] {escape(' '.join(message.split()))}", soft_wrap=True)
