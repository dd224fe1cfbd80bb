"""``crowdscribe stuck``: clips waiting for the coordinator (skipped as the wrong language or as
empty, or published with nobody left who can take them), to relabel, re-open or drop."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from app.cli import context
from app.cli.output import JsonlFormat, TableOrJsonl, console, print_rows
from crowdscribe.clock import utc_now
from transcribe.stuck import drop_stuck, reopen_stuck, republish_stuck, stuck_clips

stuck_app = typer.Typer(
    invoke_without_command=True,
    help="Clips no one will finish (wrong language, empty, nobody left to take them): "
    "relabel, re-open or drop them.",
)
ClipId = Annotated[str, typer.Argument(help="The clip, as `crowdscribe stuck list` shows it.")]


def register(app: typer.Typer) -> None:
    """Add ``stuck`` to the ``crowdscribe`` app."""
    app.add_typer(stuck_app, name="stuck")


@stuck_app.callback()
def stuck(ctx: typer.Context, output: JsonlFormat = TableOrJsonl.table) -> None:
    """List clips no one will finish, and why (same as `crowdscribe stuck list`)."""
    if ctx.invoked_subcommand is None:
        _list(output)


@stuck_app.command("list")
def stuck_list(output: JsonlFormat = TableOrJsonl.table) -> None:
    """List clips no one will finish, and why: withdrawn after two people skipped them as the
    wrong language or as empty, or still published with nobody left who can take them."""
    _list(output)


def _list(output: TableOrJsonl) -> None:
    with context.database().session() as session:
        rows = [clip.to_dict() for clip in stuck_clips(session, utc_now())]
    if output is TableOrJsonl.jsonl:
        print_rows(rows, output, ())
        return
    columns = ("clip_id", "source", "language", "speaker_group", "project", "kind", "why")
    print_rows(rows, output, columns)
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
    """Relabel a stuck clip and publish it (again) for people who work in that language."""
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
    with context.database().session() as session:
        still = [clip for clip in stuck_clips(session, utc_now()) if clip.clip_id == clip_id]
    if still:
        console.print(f"but nobody can take it yet: {still[0].why}")


@stuck_app.command("reopen")
def stuck_reopen(clip_id: ClipId) -> None:
    """Publish a withdrawn clip again as labelled, for people qualified since; refused while
    nobody could take it."""
    with context.database().session() as session:
        reopen_stuck(session, clip_id, utc_now())
    console.print(f"{clip_id} published again")


@stuck_app.command("drop")
def stuck_drop(clip_id: ClipId) -> None:
    """Give up on a stuck clip: it is marked unusable, its open slots close, never exported."""
    with context.database().session() as session:
        drop_stuck(session, clip_id, utc_now())
    console.print(f"{clip_id} dropped")
