"""``crowdscribe payouts create|list|show``: money going out, recorded so nothing is paid twice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from app.cli import context
from app.cli.output import JsonFormat, TableOrJson, console, print_json, print_rows
from crowdscribe.clock import utc_now
from crowdscribe.errors import InvalidInput
from transcribe.payouts import (
    PAYOUTS_DIR,
    PayoutBatch,
    create_payouts,
    end_of_day,
    list_payouts,
    payout_batch,
    write_payout_files,
)

payouts_app = typer.Typer(
    no_args_is_help=True,
    help="Pay settled work: create a payout batch per currency, list and show payouts.",
)
_LIST_COLUMNS = ("id", "created", "currency", "until", "people", "entries", "total", "file")


def register(app: typer.Typer) -> None:
    """Add the ``payouts`` group to the ``crowdscribe`` app."""
    app.add_typer(payouts_app, name="payouts")


@payouts_app.command("create")
def create(
    until: Annotated[
        str,
        typer.Option("--until", help="Pay work decided up to and including this UTC date."),
    ],
    output: JsonFormat = TableOrJson.table,
) -> None:
    """Turn settled, unpaid work into one payout per currency, written as CSV and JSON files in
    the data home, and mark that work paid. Run again, it pays nothing twice."""
    until_at = end_of_day(_parse_date(until))
    now = utc_now()
    payouts_dir = context.settings().home_dir / PAYOUTS_DIR
    with context.database().session() as session:
        batches = create_payouts(session, until=until_at, payouts_dir=payouts_dir, now=now)
    for batch in batches:
        write_payout_files(batch)
    if output is TableOrJson.json:
        print_json([batch.to_dict() for batch in batches])
        return
    if not batches:
        console.print(f"nothing to pay: no settled, unpaid work decided up to {until}")
        return
    for batch in batches:
        console.print(
            f"payout {batch.id}: {batch.total} {batch.currency} to {len(batch.lines)} people "
            f"for {batch.entries} transcripts; file {batch.file_path}"
        )


@payouts_app.command("list")
def list_command(output: JsonFormat = TableOrJson.table) -> None:
    """Every payout made, newest first."""
    with context.database().session() as session:
        batches = list_payouts(session)
    if output is TableOrJson.json:
        print_json([batch.to_dict() for batch in batches])
        return
    if not batches:
        console.print("no payouts yet: `crowdscribe payouts create --until DATE` makes one")
        return
    print_rows(
        [_summary_row(batch) for batch in batches],
        output,
        _LIST_COLUMNS,
        title="Payouts",
        right_aligned=("people", "entries", "total"),
    )


@payouts_app.command("show")
def show(
    payout_id: Annotated[int, typer.Argument(help="The payout's id (see `payouts list`).")],
    output: JsonFormat = TableOrJson.table,
) -> None:
    """One payout: what each person receives."""
    with context.database().session() as session:
        batch = payout_batch(session, payout_id)
    if output is TableOrJson.json:
        print_json(batch.to_dict())
        return
    print_rows(
        [line.to_dict() for line in batch.lines],
        output,
        ("name", "entries", "amount"),
        title=f"Payout {batch.id}: {batch.total} {batch.currency}, "
        f"work decided before {batch.until_at:%Y-%m-%d %H:%M} UTC",
        right_aligned=("entries", "amount"),
    )
    console.print(f"file {batch.file_path}")


def _summary_row(batch: PayoutBatch) -> dict[str, str | int]:
    return {
        "id": batch.id,
        "created": f"{batch.created_at:%Y-%m-%d %H:%M}",
        "currency": batch.currency,
        "until": f"{batch.until_at:%Y-%m-%d %H:%M}",
        "people": len(batch.lines),
        "entries": batch.entries,
        "total": str(batch.total),
        "file": batch.file_path.name,
    }


def _parse_date(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"--until {text!r} is not a date like 2025-03-14") from None
