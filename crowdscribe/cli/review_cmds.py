"""``crowdscribe agree``, ``disputes``, ``accuracy``: decide complete clips, see what waits for a
reviewer, and see each transcriber's accuracy (and who is paused, and why)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crowdscribe.cli import context
from review.accuracy import accuracy_report
from review.disputes import dispute_queue
from transcribe.users import person_by_name

console = Console()


class OutputFormat(str, Enum):
    jsonl = "jsonl"
    table = "table"


def register(app: typer.Typer) -> None:
    """Add ``agree``, ``disputes`` and ``accuracy`` to the ``crowdscribe`` app."""
    app.command(name="agree")(agree)
    app.command(name="disputes")(disputes)
    app.command(name="accuracy")(accuracy)


def agree(
    project: Annotated[str | None, typer.Option("--project", help="Only this project.")] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Clips decided per task.")
    ] = 500,
) -> None:
    """Decide every clip whose transcriptions are complete: accept, ask for more, or dispute."""
    settings = context.settings()
    context.database()

    from flows.agreement import agreement

    summary = agreement(
        batch_size=batch_size,
        project=project,
        home=str(settings.home_dir),
        database_url=settings.resolved_database_url,
    )
    table = Table("outcome", "clips")
    table.add_row("accepted", str(summary["accepted"]))
    table.add_row("more transcriptions", str(summary["more_transcriptions"]))
    table.add_row("disputed", str(summary["disputed"]))
    table.add_row("unusable? (bad audio ×2)", str(summary["unusable"]))
    console.print(table)
    histogram = Table("agreement error", "clips")
    for label, count in summary["histogram"].items():
        histogram.add_row(label, str(count))
    console.print(histogram)
    for pause in summary["pauses"]:
        console.print(f"[yellow]paused[/yellow] user {pause['user_id']}: {pause['reason']}")


def disputes(
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table or jsonl.")
    ] = OutputFormat.table,
    language: Annotated[str | None, typer.Option("--language", help="Only this language.")] = None,
    project: Annotated[str | None, typer.Option("--project", help="Only this project.")] = None,
    min_age_h: Annotated[
        float | None, typer.Option("--older-than-h", help="Only disputes older than this.")
    ] = None,
    state: Annotated[str, typer.Option("--state", help="open or resolved.")] = "open",
) -> None:
    """Disputes waiting for a reviewer, oldest first."""
    now = datetime.now(UTC)
    with context.database().session() as session:
        rows = [
            summary.to_dict(now)
            for summary in dispute_queue(
                session,
                language=language,
                project=project,
                min_age_s=min_age_h * 3600 if min_age_h else None,
                state=state,
                now=now,
            )
        ]
    if output is OutputFormat.jsonl:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    columns = ("id", "clip_id", "kind", "language", "project", "agreement_error", "transcripts")
    table = Table(*columns, "age")
    for row in rows:
        cells = [_cell(row[column]) for column in columns]
        table.add_row(*cells, _age(row["age_s"]))
    console.print(table)
    console.print(f"{len(rows)} {state} dispute(s)")


def accuracy(
    name: Annotated[str | None, typer.Argument(help="One person's name; everyone if left out.")]
    = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table or jsonl.")
    ] = OutputFormat.table,
) -> None:
    """Each transcriber's error rate per language over the recent window, and any pause reason."""
    settings = context.settings()
    with context.database().session() as session:
        if name is not None:
            person_by_name(session, name)
        rows = [
            row.to_dict()
            for row in accuracy_report(session, window=settings.accuracy_window, name=name)
        ]
    if output is OutputFormat.jsonl:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    table = Table("name", "language", "clips", "error rate", "status", "reason")
    for row in rows:
        table.add_row(
            row["name"],
            row["language"],
            str(row["clips"]),
            _cell(row["error_rate"]),
            row["status"] or "not qualified",
            row["reason"] or "",
        )
    console.print(table)
    console.print(
        f"bar: paused above {settings.accuracy_bar:.0%} error over the last "
        f"{settings.accuracy_window} checked clips"
    )


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"
