"""``crowdscribe rates``, ``earnings``, ``settle``, ``export``: what work pays, what people are
owed, and the finished dataset."""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from crowdscribe.cli import context
from crowdscribe.storage.models import User
from review.export import export_dataset
from transcribe.errors import InvalidInput, NotFound
from transcribe.ledger import earnings_for, settlement_report
from transcribe.pricing import load_rate_card

console = Console()
_REPORT_FIELDS = [
    "user_id",
    "name",
    "currency",
    "entries",
    "credited",
    "discounted",
    "owed",
    "pending",
]


class TableOrJson(str, Enum):
    table = "table"
    json = "json"


class ReportFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


def register(app: typer.Typer) -> None:
    """Add ``rates``, ``earnings``, ``settle`` and ``export`` to the ``crowdscribe`` app."""
    app.command(name="rates")(rates)
    app.command(name="earnings")(earnings)
    app.command(name="settle")(settle)
    app.command(name="export")(export)


def rates(
    output: Annotated[TableOrJson, typer.Option("--format", help="table or json.")] = (
        TableOrJson.table
    ),
) -> None:
    """Show the rate card in use (CROWDSCRIBE_RATES_FILE, else the built-in card)."""
    settings = context.settings()
    card = load_rate_card(settings.rates_file)
    if output is TableOrJson.json:
        typer.echo(json.dumps(card.to_dict(), indent=2))
        return
    source = str(settings.rates_file) if settings.rates_file else "built-in default card"
    table = Table(title=f"Rates in {card.currency} ({source})")
    for column in ("language", "speaker group", "amount", "minutes", "per minute"):
        table.add_column(
            column, justify="left" if column in ("language", "speaker group") else "right"
        )
    for rate in (*card.rates, card.default):
        language = "(anything else)" if rate is card.default else rate.language
        table.add_row(
            language, rate.speaker_group, str(rate.amount), str(rate.minutes), str(rate.per_minute)
        )
    console.print(table)
    console.print(
        f"minimum per clip {card.minimum_per_clip} {card.currency}; "
        f"rejected work earns {card.rejected_factor} of the price"
    )


def earnings(
    name: Annotated[str, typer.Argument(help="The person's user name.")],
    output: Annotated[TableOrJson, typer.Option("--format", help="table or json.")] = (
        TableOrJson.table
    ),
) -> None:
    """Show what a person has earned: today, pending review, credited and discounted."""
    with context.database().session() as session:
        user_id = session.scalar(select(User.id).where(User.name == name))
        if user_id is None:
            raise NotFound(f"there is no person called {name!r}; check the user name")
        totals = earnings_for(session, user_id, datetime.now(UTC))
    if output is TableOrJson.json:
        typer.echo(json.dumps({"name": name, **totals.to_dict()}, indent=2))
        return
    table = Table(title=f"Earnings of {name} ({totals.currency})")
    for column in ("today", "pending", "credited", "discounted", "settled"):
        table.add_column(column, justify="right")
    row = totals.to_dict()
    table.add_row(*(row[key] for key in ("today", "pending", "credited", "discounted", "settled")))
    console.print(table)


def settle(
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only work decided on or after this date (YYYY-MM-DD, UTC)."),
    ] = None,
    output: Annotated[ReportFormat, typer.Option("--format", help="table, csv or json.")] = (
        ReportFormat.table
    ),
) -> None:
    """The payout report: per person, credited plus discounted work owed (pending shown apart)."""
    since_at = _parse_date(since) if since else None
    with context.database().session() as session:
        lines = settlement_report(session, since=since_at)
    rows = [line.to_dict() for line in lines]
    if output is ReportFormat.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=_REPORT_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
        return
    if output is ReportFormat.json:
        typer.echo(json.dumps(rows, indent=2))
        return
    columns = _REPORT_FIELDS[1:]
    table = Table(title="Payouts" + (f" for work decided since {since}" if since else ""))
    for column in columns:
        table.add_column(column, justify="left" if column in ("name", "currency") else "right")
    for row in rows:
        table.add_row(*(str(row[key]) for key in columns))
    console.print(table if rows else "nothing settled yet")


def export(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write (replaced if an export).")],
    project: Annotated[
        str | None, typer.Option("--project", help="Only clips of this project.")
    ] = None,
) -> None:
    """Write the finished dataset: manifest.jsonl plus audio/ of every agreed or resolved clip."""
    settings = context.settings()
    with context.database().session() as session:
        summary = export_dataset(session, settings.home_dir, out_dir, project=project)
    console.print(
        f"exported {summary.clips} clips ({summary.duration_s / 60:.1f} min of audio) "
        f"to {summary.out_dir}; manifest {summary.manifest_path.name}"
    )


def _parse_date(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"--since {text!r} is not a date like 2025-03-14") from None
