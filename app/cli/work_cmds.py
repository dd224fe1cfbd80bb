"""``crowdscribe dispatch`` publishes collected clips as work; ``crowdscribe serve`` runs the web
app transcribers and coordinators use."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from app.cli import context
from app.cli.output import console, rows_table
from transcribe.projects import check_overlap
from transcribe.publish_plan import plan_publishing, project_terms, projects_to_publish


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
            "--overlap", help="Independent transcriptions per clip [default: the project's]."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show clips, hours, slots and cost; publish nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Publish collected clips: price each and open ``overlap`` transcription slots for it."""
    settings = context.settings()
    # Checked before Prefect starts, so a typo costs nothing and changes nothing.
    if overlap is not None:
        check_overlap(overlap, settings.max_overlap)
    context.check_project(project)
    if dry_run:
        _print_plan(project, overlap, as_json)
        return
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


def _print_plan(project: str | None, overlap: int | None, as_json: bool) -> None:
    settings = context.settings()
    with context.database().session() as session:
        plans = [
            plan_publishing(
                session,
                project_terms(
                    session,
                    name,
                    overlap=overlap,
                    default_overlap=settings.default_overlap,
                    rates_file=settings.rates_file,
                ),
            )
            for name in projects_to_publish(session, project)
        ]
    rows = [plan.to_dict() for plan in plans]
    if as_json:
        typer.echo(json.dumps({"dry_run": True, "projects": rows}))
        return
    columns = ("project", "clips", "audio_hours", "overlap", "slots", "projected_cost", "currency")
    console.print(rows_table(rows, columns, title="Dry run: nothing published", cell=_cell))
    if not rows:
        console.print("no collected clips are waiting to be published")


def _cell(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


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

    from app.web.serving import check_port_free, lock_home
    from app.web.serving import serve as serve_app

    check_port_free(host, port)
    settings = context.settings()
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    lock = lock_home(settings.home_dir, url)
    context.database()  # migrate before the first request
    settings.resolved_secret_key  # noqa: B018 - made once here, read by every worker
    console.print(f"serving {url} (API docs {url}/docs) for data home {settings.home_dir}")
    console.print("press Ctrl+C to stop")
    try:
        raise typer.Exit(serve_app(host, port, workers or os.cpu_count() or 1, access_log))
    finally:
        lock.close()
