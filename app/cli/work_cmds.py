"""``crowdscribe dispatch`` publishes collected clips as work; ``crowdscribe serve`` runs the web
app transcribers and coordinators use."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from app.cli import context
from app.cli.output import console


def register(app: typer.Typer) -> None:
    """Add ``dispatch`` and ``serve`` to the ``crowdscribe`` app."""
    app.command(name="dispatch")(dispatch)
    app.command(name="serve")(serve)


def dispatch(
    project: Annotated[
        str | None, typer.Option("--project", help="Only clips of this project.")
    ] = None,
    overlap: Annotated[
        int | None,
        typer.Option(
            "--overlap",
            help="Independent transcriptions per clip [default: CROWDSCRIBE_DEFAULT_OVERLAP, 2].",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Publish collected clips: price each and open ``overlap`` transcription slots for it."""
    from flows.dispatch import dispatch as dispatch_flow

    with context.flow_target() as target:
        summary = dispatch_flow(project=project, overlap=overlap, **target)
    if as_json:
        typer.echo(json.dumps(summary))
        return
    languages = ", ".join(f"{code}: {n}" for code, n in summary["by_language"].items())
    console.print(
        f"published {summary['published']} clip(s) as {summary['slots']} slot(s)"
        + (f" ({languages})" if languages else "")
    )
    if summary["gold_kept_back"]:
        console.print(f"{summary['gold_kept_back']} gold clip(s) kept back from work")


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Server processes (default: one per CPU core), each listening on the port; "
            "SQLite writers queue across them on a lock file beside the database.",
        ),
    ] = None,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request.")
    ] = True,
) -> None:
    """Run the web app (transcriber pages, coordinator pages and the JSON API)."""
    import os

    from app.web.serving import serve as serve_app

    context.database()  # migrate before the first request
    context.settings().resolved_secret_key  # noqa: B018 - made once here, read by every worker
    raise typer.Exit(serve_app(host, port, workers or os.cpu_count() or 1, access_log))
