"""``crowdscribe rates``, ``earnings``, ``settle``, ``export``: what work pays, what people are
owed, and the finished dataset."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from app.cli import context
from app.cli.output import (
    JsonFormat,
    ReportFormat,
    TableCsvOrJson,
    TableOrJson,
    console,
    print_json,
    print_rows,
)
from crowdscribe.clock import utc_now
from crowdscribe.errors import InvalidInput
from review.dataset_split import parse_ratios
from transcribe.ledger import SETTLEMENT_FIELDS, earnings_for, settlement_report
from transcribe.people import user_named
from transcribe.pricing import load_rate_card
from transcribe.projects import find_project

_REPORT_FIELDS = list(SETTLEMENT_FIELDS)


def register(app: typer.Typer) -> None:
    """Add ``rates``, ``earnings``, ``settle`` and ``export`` to the ``crowdscribe`` app."""
    app.command(name="rates")(rates)
    app.command(name="earnings")(earnings)
    app.command(name="settle")(settle)
    app.command(name="export")(export)


def rates(output: JsonFormat = TableOrJson.table) -> None:
    """Show the rate card in use (CROWDSCRIBE_RATES_FILE, else the built-in card)."""
    settings = context.settings()
    card = load_rate_card(settings.rates_file)
    if output is TableOrJson.json:
        print_json(card.to_dict())
        return
    source = str(settings.rates_file) if settings.rates_file else "built-in default card"
    rows = [
        {
            "language": "(anything else)" if rate is card.default else rate.language,
            "speaker group": rate.speaker_group,
            "amount": rate.amount,
            "minutes": rate.minutes,
            "per minute": rate.per_minute,
        }
        for rate in (*card.rates, card.default)
    ]
    columns = ("language", "speaker group", "amount", "minutes", "per minute")
    print_rows(
        rows,
        output,
        columns,
        cell=str,
        title=f"Rates in {card.currency} ({source})",
        right_aligned=columns[2:],
    )
    console.print(
        f"minimum per clip {card.minimum_per_clip} {card.currency}; "
        f"rejected work earns {card.rejected_factor} of the price"
    )


def earnings(
    name: Annotated[str, typer.Argument(help="The person's user name.")],
    output: JsonFormat = TableOrJson.table,
) -> None:
    """Show what a person has earned: today, pending review, credited and discounted, and how
    much of the settled work payouts have paid."""
    with context.database().session() as session:
        totals = earnings_for(session, user_named(session, name).id, utc_now())
    if output is TableOrJson.json:
        print_json({"name": name, **totals.to_dict()})
        return
    columns = ("today", "pending", "credited", "discounted", "settled", "paid", "unpaid")
    print_rows(
        [totals.to_dict()],
        output,
        columns,
        title=f"Earnings of {name} ({totals.currency})",
        right_aligned=columns,
    )


def settle(
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only work decided on or after this date (YYYY-MM-DD, UTC)."),
    ] = None,
    output: ReportFormat = TableCsvOrJson.table,
) -> None:
    """The settlement report: per person, credited plus discounted work owed, how much of it
    payouts have paid and what is unpaid (pending review shown apart)."""
    since_at = _parse_date(since) if since else None
    with context.database().session() as session:
        lines = settlement_report(session, since=since_at)
    rows = [line.to_dict() for line in lines]
    if output is TableCsvOrJson.table and not rows:
        console.print("nothing settled yet")
        return
    print_rows(
        rows,
        output,
        _REPORT_FIELDS if output is TableCsvOrJson.csv else _REPORT_FIELDS[1:],
        cell=str,
        title="Payouts" + (f" for work decided since {since}" if since else ""),
        right_aligned=_REPORT_FIELDS[3:],
    )


class ExportFormat(str, Enum):
    jsonl = "jsonl"
    nemo = "nemo"
    kaldi = "kaldi"
    hf = "hf"
    lhotse = "lhotse"


class Script(str, Enum):
    simplified = "simplified"
    traditional = "traditional"
    as_typed = "as-typed"


def export(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write (replaced if an export).")],
    project: Annotated[
        str | None, typer.Option("--project", help="Only clips of this project.")
    ] = None,
    fmt: Annotated[
        ExportFormat,
        typer.Option("--format", help="jsonl, nemo, kaldi, hf (audiofolder) or lhotse."),
    ] = ExportFormat.jsonl,
    split: Annotated[
        str,
        typer.Option("--split", help="train,dev,test shares of the audio, e.g. 0.8,0.1,0.1."),
    ] = "0.8,0.1,0.1",
    script: Annotated[
        Script | None,
        typer.Option(
            "--script",
            help="Chinese text in simplified or traditional characters, or as typed; "
            "default: each project's (`projects create --script`), else as typed.",
        ),
    ] = None,
) -> None:
    """Write the finished dataset of every agreed or resolved clip, split into train, dev and
    test so that no recording is in two splits."""
    from review.export import export_dataset  # soundfile and numpy: only this command needs them

    context.check_project(project)
    settings = context.settings()
    ratios = parse_ratios(split)
    chosen = None if script in (None, Script.as_typed) else script.value

    with context.database().session() as session:

        def script_for(project_name: str) -> str | None:
            # --script for every project, else each project's own.
            if script is not None:
                return chosen
            record = find_project(session, project_name)
            return record.script if record is not None else None

        summary = export_dataset(
            session,
            settings.home_dir,
            out_dir,
            project=project,
            fmt=fmt.value,
            ratios=ratios,
            script_for=script_for,
        )
    parts = ", ".join(
        f"{name} {totals['clips']} ({totals['duration_s'] / 60:.1f} min)"
        for name, totals in summary.splits.items()
    )
    console.print(
        f"exported {summary.clips} clips ({summary.duration_s / 60:.1f} min of audio) "
        f"as {summary.fmt} to {summary.out_dir}: {parts}"
    )


def _parse_date(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"--since {text!r} is not a date like 2025-03-14") from None
