"""``crowdscribe collect``, ``recordings``, ``clips``: bring recordings in, list what we have."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.cli import context
from app.cli.output import JsonlFormat, TableOrJsonl, console, print_rows, rows_table
from crowdscribe.errors import InvalidInput
from crowdscribe.languages import speaker_group_doubt
from crowdscribe.storage import catalog
from crowdscribe.storage.catalog import CollectRequest
from transcribe.relabel import relabel_recording
from transcribe.transactions import utc_now

RECORDING_COLUMNS = ("source", "status", "reason", "duration_s", "clips")


def register(app: typer.Typer) -> None:
    """Add ``collect``, ``recordings`` and ``clips`` to the ``crowdscribe`` app."""
    app.command(name="collect")(collect)
    app.add_typer(recordings_app, name="recordings")
    app.command(name="clips")(clips)


def collect(
    paths: Annotated[
        list[str], typer.Argument(help="Audio files or folders (searched recursively).")
    ],
    language: Annotated[
        str, typer.Option("--language", help="Language code: en, yue, cmn-shaanxi…")
    ],
    speaker_group: Annotated[
        str, typer.Option("--speaker-group", help="child, teen, adult, elderly…")
    ],
    project: Annotated[
        str, typer.Option("--project", help="Project the clips belong to.")
    ] = "default",
    consent: Annotated[
        str | None, typer.Option("--consent", help="Reference to the signed consent.")
    ] = None,
    max_clip_s: Annotated[
        float, typer.Option("--max-clip-s", help="Longest clip, in seconds.")
    ] = 15.0,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 if any recording is rejected.")
    ] = False,
) -> None:
    """Cut recordings into clips in their pauses and store them; bad files are recorded with why."""
    # Check everything before starting Prefect, so a typo costs nothing and changes nothing.
    request = CollectRequest(language, speaker_group, project, consent, max_clip_s)
    context.check_project(project)
    inputs = catalog.find_recordings(paths)
    if not inputs:
        console.print("no audio files found in " + ", ".join(paths) + "; nothing to collect")
        return
    target = context.flow_target()

    from flows.collect import collect as collect_flow

    with Progress(
        TextColumn("[bold]collect"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
    ) as progress:
        bar = progress.add_task("starting Prefect…", total=len(inputs))

        def advance(row: dict[str, Any]) -> None:
            progress.update(bar, advance=1, description=f"{row['source']}: {row['status']}")

        summary = collect_flow(
            paths=paths,
            language=request.language,
            speaker_group=request.speaker_group,
            project=project,
            consent_ref=consent,
            max_clip_s=max_clip_s,
            on_progress=advance,
            **target,
        )
    with context.database().session() as session:
        stored = {row["source_path"]: row for row in catalog.recording_rows(session)}
    rows = [stored[str(path)] for _, path in inputs if str(path) in stored]
    console.print(rows_table(rows, (*RECORDING_COLUMNS, "median_f0_hz")))
    _print_summary(summary)
    for row in rows:
        doubt = speaker_group_doubt(row["speaker_group"], row["median_f0_hz"])
        if doubt:
            console.print(f"[yellow]check[/yellow] {row['source']}: {doubt}")
    if summary["failed"] or (strict and summary["statuses"].get("rejected")):
        raise typer.Exit(1)


recordings_app = typer.Typer(
    invoke_without_command=True,
    help="List collected recordings; `recordings relabel` corrects their labels.",
)


@recordings_app.callback()
def recordings(
    ctx: typer.Context,
    output: JsonlFormat = TableOrJsonl.table,
    project: Annotated[str | None, typer.Option("--project", help="Only this project.")] = None,
) -> None:
    """List every collected input with its status and, if refused, why."""
    if ctx.invoked_subcommand is not None:
        return
    context.check_project(project)
    with context.database().session() as session:
        rows = catalog.recording_rows(session, project=project)
    print_rows(rows, output, (*RECORDING_COLUMNS, "median_f0_hz"))


@recordings_app.command("relabel")
def recordings_relabel(
    source: Annotated[str, typer.Argument(help="The recording, as collected or its full path.")],
    reason: Annotated[str, typer.Option("--reason", help="Why; kept with every adjustment.")],
    speaker_group: Annotated[
        str | None, typer.Option("--speaker-group", help="child, teen, adult or elderly.")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="Language code: en, yue, cmn-shaanxi…")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Correct a recording's speaker group or language: clips not yet decided are re-priced,
    decided work gets adjustment entries (new entries, never edits) with the reason."""
    if speaker_group is None and language is None:
        raise InvalidInput("give --speaker-group and/or --language to relabel")
    settings = context.settings()
    with context.database().session() as session:
        summary = relabel_recording(
            session,
            source,
            speaker_group=speaker_group,
            language=language,
            reason=reason,
            rates_file=settings.rates_file,
            default_overlap=settings.default_overlap,
            now=utc_now(),
        )
    if as_json:
        typer.echo(json.dumps(summary.to_dict()))
        return
    adjusted = ", ".join(f"{amount:+} {currency}" for currency, amount in summary.adjusted.items())
    console.print(
        f"relabelled {summary.clips} clip(s); {summary.repriced} re-priced; "
        f"{summary.pending_repriced} pending entr(ies) re-priced; "
        f"{summary.adjustments} adjustment(s)" + (f" ({adjusted})" if adjusted else "")
    )


def clips(
    output: JsonlFormat = TableOrJsonl.table,
    project: Annotated[str | None, typer.Option("--project", help="Only this project.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only clips in this status.")
    ] = None,
) -> None:
    """The clip manifest: where each clip comes from, its audio file and how far it has got."""
    context.check_project(project)
    home = context.settings().home_dir
    with context.database().session() as session:
        rows = catalog.clip_rows(session, home, project=project, status=status)
    print_rows(rows, output, ("clip_id", "source", "start_s", "end_s", "status", "submissions"))


def _print_summary(summary: dict[str, Any]) -> None:
    statuses = ", ".join(
        f"{count} {status}" for status, count in sorted(summary["statuses"].items())
    )
    console.print(
        f"{summary['recordings']} recording(s): {statuses or 'none stored'}; "
        f"{summary['clips']} clip(s), {summary['duration_s']:.1f} s of audio"
        + (
            f"; {summary['already_collected']} already collected"
            if summary["already_collected"]
            else ""
        )
    )
    for failure in summary["failed"]:
        console.print(
            f"[red]failed[/red] {failure['source']}: {failure['error']} (re-run to retry)"
        )
