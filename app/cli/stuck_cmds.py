"""``crowdscribe stuck``: clips skipped as the wrong language or as empty, waiting to be
relabelled (and published again) or dropped."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from app.cli import context
from app.cli.output import JsonlFormat, TableOrJsonl, console, print_rows
from crowdscribe.clock import utc_now
from transcribe.stuck import drop_stuck, republish_stuck, stuck_clips

stuck_app = typer.Typer(
    invoke_without_command=True,
    help="Clips people could not do (wrong language, empty): relabel or drop them.",
)
ClipId = Annotated[str, typer.Argument(help="The clip, as `crowdscribe stuck` lists it.")]


def register(app: typer.Typer) -> None:
    """Add ``stuck`` to the ``crowdscribe`` app."""
    app.add_typer(stuck_app, name="stuck")


@stuck_app.callback()
def stuck(ctx: typer.Context, output: JsonlFormat = TableOrJsonl.table) -> None:
    """List clips taken out of the queue because people skipped them as wrong language or empty."""
    if ctx.invoked_subcommand is not None:
        return
    with context.database().session() as session:
        rows = [clip.to_dict() for clip in stuck_clips(session)]
    if output is TableOrJsonl.jsonl:
        print_rows(rows, output, ())
        return
    shown = [
        {**row, "skips": ", ".join(f"{reason} x{n}" for reason, n in row["skips"].items())}
        for row in rows
    ]
    columns = ("clip_id", "source", "language", "speaker_group", "project", "skips")
    print_rows(shown, output, columns)
    console.print(f"{len(rows)} stuck clip(s)")


@stuck_app.command("relabel")
def stuck_relabel(
    clip_id: ClipId,
    reason: Annotated[str, typer.Option("--reason", help="Why; kept with any adjustment.")],
    language: Annotated[
        str | None, typer.Option("--language", help="The language it is really in.")
    ] = None,
    speaker_group: Annotated[
        str | None, typer.Option("--speaker-group", help="child, teen, adult or elderly.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Relabel a stuck clip and publish it again for people who work in that language."""
    settings = context.settings()
    with context.database().session() as session:
        summary = republish_stuck(
            session,
            clip_id,
            language=language,
            speaker_group=speaker_group,
            reason=reason,
            rates_file=settings.rates_file,
            default_overlap=settings.default_overlap,
            now=utc_now(),
        )
    if as_json:
        typer.echo(json.dumps(summary.to_dict()))
        return
    console.print(f"{clip_id} relabelled and published again")


@stuck_app.command("drop")
def stuck_drop(clip_id: ClipId) -> None:
    """Give up on a stuck clip: it is marked unusable and never exported."""
    with context.database().session() as session:
        drop_stuck(session, clip_id, utc_now())
    console.print(f"{clip_id} dropped")
