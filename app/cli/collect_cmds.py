"""``crowdscribe collect``, ``recordings``, ``clips``: bring recordings in, list what we have."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.cli import context
from app.cli.output import JsonlFormat, TableOrJsonl, console, print_rows, rows_table
from crowdscribe.clip_store import ClipStore
from crowdscribe.clock import utc_now
from crowdscribe.errors import InvalidInput
from crowdscribe.languages import speaker_group_doubt
from crowdscribe.storage import catalog
from transcribe import collection
from transcribe.collection import CollectRequest
from transcribe.relabel import relabel_recording

RECORDING_COLUMNS = ("source", "status", "reason", "duration_s", "clips")


def register(app: typer.Typer) -> None:
    """Add ``collect``, ``recordings`` (and ``recordings release``) and ``clips``."""
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
        float | None,
        typer.Option(
            "--max-clip-s", help="Longest clip, in seconds [default: CROWDSCRIBE_MAX_CLIP_S, 15]."
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 if any recording is rejected.")
    ] = False,
    clips_url: Annotated[
        str | None,
        typer.Option(
            "--clips-url",
            help="Where clip files and manifests go: a folder or s3://bucket/prefix "
            "[default: CROWDSCRIBE_CLIPS_URL, else HOME/clips].",
        ),
    ] = None,
    dask: Annotated[
        str | None,
        typer.Option(
            "--dask",
            metavar="ADDRESS",
            help="Run the recordings on the Dask cluster whose scheduler is at ADDRESS "
            "(tcp://host:8786); its workers need the same files, database and clips location.",
        ),
    ] = None,
) -> None:
    """Cut recordings into clips in their pauses and store them; bad files are recorded with why."""
    # Check everything before starting Prefect, so a typo costs nothing and changes nothing.
    if max_clip_s is None:
        max_clip_s = context.settings().max_clip_s
    request = CollectRequest(language, speaker_group, max_clip_s, project, consent)
    ClipStore(clips_url or context.settings().resolved_clips_url)  # refuses a URL with a password
    context.check_project(project)
    inputs = collection.find_recordings(paths)
    if not inputs:
        console.print("no audio files found in " + ", ".join(paths) + "; nothing to collect")
        return
    from flows.collect import collect as collect_flow
    from flows.progress import reporting_progress

    with (
        _stopped_by_signals(),
        context.flow_target() as target,
        Progress(
            TextColumn("[bold]collect"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=console,
        ) as progress,
    ):
        bar = progress.add_task("starting Prefect…", total=len(inputs))

        def advance(row: dict[str, Any]) -> None:
            progress.update(bar, advance=1, description=f"{row['source']}: {row['status']}")

        with reporting_progress(advance):
            summary = collect_flow(
                paths=paths,
                language=request.language,
                speaker_group=request.speaker_group,
                project=project,
                consent_ref=consent,
                max_clip_s=max_clip_s,
                clips_url=clips_url,
                dask_address=dask,
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


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """Ctrl-C or SIGTERM: stop now with a failing exit code; every recording already stored
    stays (each is committed on its own) and a re-run does the rest."""

    def stop(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        message = (
            f"\nstopped by {name}: recordings already stored stay; "
            "run the same collect again to finish the rest\n"
        )
        os.write(sys.stdout.fileno(), message.encode())
        # Exit here rather than raise: Prefect's runner would wait for the recordings in
        # progress (one may take minutes). Their uncommitted work is rolled back, and
        # their temporary clip files are removed by the next run.
        os._exit(128 + signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


recordings_app = typer.Typer(
    invoke_without_command=True,
    help="List collected recordings; `recordings release` sends held ones on to work, "
    "`recordings relabel` corrects their labels.",
)


@recordings_app.callback()
def recordings(
    ctx: typer.Context,
    output: JsonlFormat = TableOrJsonl.table,
    project: Annotated[str | None, typer.Option("--project", help="Only this project.")] = None,
) -> None:
    """List every collected input with its status and, if refused or held, why."""
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


@recordings_app.command("release")
def release(
    source: Annotated[str, typer.Argument(help="The held recording, as listed by `recordings`.")],
) -> None:
    """Send a held recording's clips (heavily clipped audio) to paid work after listening to it."""
    with context.database().session() as session:
        released = collection.release_recording(session, source)
    console.print(
        f"released {source}: {released} clip(s) go to transcribers with the next dispatch"
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
