"""``crowdscribe agree``, ``disputes``, ``accuracy``: decide complete clips, see what waits for a
reviewer, and see each transcriber's accuracy (and who is paused, and why)."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli import context
from app.cli.output import (
    JsonlFormat,
    TableOrJsonl,
    cell_format,
    console,
    print_rows,
    rows_table,
)
from crowdscribe.clock import utc_now
from crowdscribe.languages import check_language
from crowdscribe.storage.states import DisputeState
from review.accuracy import accuracy_report
from review.disputes import dispute_queue
from transcribe.users import person_by_name

OUTCOMES = (
    ("accepted", "accepted"),
    ("more transcriptions", "more_transcriptions"),
    ("disputed", "disputed"),
    ("unusable? (bad audio ×2)", "unusable"),
)
DISPUTE_COLUMNS = ("id", "clip_id", "kind", "language", "project", "agreement_error", "transcripts")
_cell = cell_format(missing="–", places=3)
ACCURACY_COLUMNS = (
    "name",
    "language",
    "clips",
    "gold_clips",
    "error_rate",
    "error_low",
    "error_high",
    "status",
    "reason",
)


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
    from flows.agreement import agreement

    context.check_project(project)
    with context.flow_target() as target:
        summary = agreement(batch_size=batch_size, project=project, **target)
    outcomes = [{"outcome": label, "clips": summary[key]} for label, key in OUTCOMES]
    console.print(rows_table(outcomes, ("outcome", "clips")))
    histogram = [
        {"agreement error": label, "clips": count} for label, count in summary["histogram"].items()
    ]
    console.print(rows_table(histogram, ("agreement error", "clips")))
    for pause in summary["pauses"]:
        console.print(f"[yellow]paused[/yellow] user {pause['user_id']}: {pause['reason']}")


def disputes(
    output: JsonlFormat = TableOrJsonl.table,
    language: Annotated[str | None, typer.Option("--language", help="Only this language.")] = None,
    project: Annotated[str | None, typer.Option("--project", help="Only this project.")] = None,
    min_age_h: Annotated[
        float | None, typer.Option("--older-than-h", help="Only disputes older than this.")
    ] = None,
    state: Annotated[str, typer.Option("--state", help="open or resolved.")] = DisputeState.OPEN,
) -> None:
    """Disputes waiting for a reviewer, oldest first."""
    context.check_project(project)
    language = check_language(language) if language is not None else None
    now = utc_now()
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
    if output is TableOrJsonl.jsonl:
        print_rows(rows, output, DISPUTE_COLUMNS)
        return
    shown = [{**row, "age": _age(row["age_s"])} for row in rows]
    print_rows(shown, output, (*DISPUTE_COLUMNS, "age"), cell=_cell)
    console.print(f"{len(rows)} {state} dispute(s)")


def accuracy(
    name: Annotated[
        str | None, typer.Argument(help="One person's name; everyone if left out.")
    ] = None,
    output: JsonlFormat = TableOrJsonl.table,
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
    if output is TableOrJsonl.jsonl:
        print_rows(rows, output, ACCURACY_COLUMNS)
        return
    shown = [
        {**row, "status": row["status"] or "not qualified", "reason": row["reason"] or ""}
        for row in rows
    ]
    headers = [column.replace("_", " ") for column in ACCURACY_COLUMNS]
    print_rows(shown, output, ACCURACY_COLUMNS, cell=_cell, headers=headers)
    console.print(
        f"bar: paused above {settings.accuracy_bar:.0%} error over the last "
        f"{settings.accuracy_window} checked clips"
    )


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"
