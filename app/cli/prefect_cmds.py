"""``crowdscribe prefect up|down|status``: a Prefect server kept running for the data home, so
flow commands start nothing and the UI shows every run, and a warm process with Prefect imported
that runs them (``warm_process``)."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli import context, prefect_server, warm_process
from app.cli.output import console
from crowdscribe.errors import InvalidInput


def register(app: typer.Typer) -> None:
    """Add the ``prefect`` group."""
    group = typer.Typer(no_args_is_help=True, help="A Prefect server for the data home.")
    group.command(name="up")(up)
    group.command(name="down")(down)
    group.command(name="status")(status)
    app.add_typer(group, name="prefect")


def up(
    port: Annotated[
        int | None, typer.Option("--port", help="Port to listen on [default: a free one].")
    ] = None,
) -> None:
    """Start a Prefect server for the data home in the background (its SQLite, log and pid
    file in HOME/prefect), and a warm process with Prefect imported that runs flow commands
    without their start-up cost; both serve until `crowdscribe prefect down`. With
    PREFECT_API_URL set (in the environment or the Prefect profile), flows report to that
    server: only the warm process is started."""
    prefect_server.quiet_prefect_defaults()
    home = context.settings().home_dir
    if external := prefect_server.configured_api_url():
        if port is not None:
            raise InvalidInput(
                "--port is for the data home's own server; PREFECT_API_URL names another"
            )
        if not prefect_server.healthy(external):
            raise InvalidInput(f"no Prefect server answers at {external} (PREFECT_API_URL)")
        console.print(f"Prefect server: {external} (PREFECT_API_URL); none started")
    else:
        state = prefect_server.start_server(home, port)
        console.print(f"Prefect server up (pid {state['pid']}): {state['api_url']}")
        console.print(f"UI: {state['api_url'].removesuffix('/api')}")
    console.print(f"warm process up (pid {warm_process.start(home)})")


def down() -> None:
    """Stop the data home's Prefect server and warm process."""
    home = context.settings().home_dir
    if pid := warm_process.stop(home):
        console.print(f"stopped the warm process, pid {pid}")
    if state := prefect_server.stop_server(home):
        console.print(f"stopped pid {state['pid']}")
    elif external := prefect_server.configured_api_url():
        console.print(f"left the Prefect server at {external} (PREFECT_API_URL) running")
    else:
        console.print("no Prefect server for this home")


def status() -> None:
    """Whether the data home's Prefect server (or the one PREFECT_API_URL names) is up, and
    where, and the warm process (exit 1 if no server answers)."""
    home = context.settings().home_dir
    if external := prefect_server.configured_api_url():
        if not prefect_server.healthy(external):
            console.print(f"down: no answer at {external} (PREFECT_API_URL)")
            raise typer.Exit(1)
        console.print(f"up: {external} (PREFECT_API_URL)")
    else:
        state = prefect_server.running_server(home)
        if state is None:
            console.print("down: flow commands start a temporary server (`crowdscribe prefect up`)")
            raise typer.Exit(1)
        console.print(f"up (pid {state['pid']}): {state['api_url']}")
    warm = warm_process.running(home)
    console.print(f"warm process: pid {warm}" if warm else "warm process: down")
