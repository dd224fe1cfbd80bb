"""``crowdscribe projects``: campaigns as records with their overlap, rates, policy, deadline,
budget, time zone and export script."""

from __future__ import annotations

import json
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from app.cli import context
from app.cli.output import JsonFormat, TableOrJson, console, print_json, print_rows
from crowdscribe.errors import InvalidInput
from review.project_policies import check_policy_file
from transcribe.people import check_time_zone
from transcribe.pricing import load_rate_card
from transcribe.projects import (
    ProjectRecord,
    create_project,
    edit_project,
    get_project,
    list_projects,
    parse_rate_override,
)

projects_app = typer.Typer(no_args_is_help=True, help="Create, edit, list and show projects.")
PROJECT_COLUMNS = ("name", "overlap", "rates", "deadline", "budget", "time_zone", "script")


def register(app: typer.Typer) -> None:
    """Add ``projects`` to the ``crowdscribe`` app."""
    app.add_typer(projects_app, name="projects")


@projects_app.command("create")
def projects_create(
    name: Annotated[str, typer.Argument(help="Name used by --project everywhere.")],
    overlap: Annotated[
        int, typer.Option("--overlap", help="Independent transcriptions per clip.")
    ] = 2,
    rates_file: Annotated[
        Path | None, typer.Option("--rates-file", help="Rate card TOML (default: settings').")
    ] = None,
    rate: Annotated[
        list[str] | None,
        typer.Option(
            "--rate", help="Override: LANGUAGE[:GROUP]=AMOUNT[/MINUTES], e.g. yue:child=9/3"
        ),
    ] = None,
    policy_file: Annotated[
        Path | None, typer.Option("--policy-file", help="Agreement policy TOML.")
    ] = None,
    deadline: Annotated[
        str | None, typer.Option("--deadline", help="Date the work is due: 2026-03-31.")
    ] = None,
    budget: Annotated[
        str | None, typer.Option("--budget", help="Money the project may spend: 20000.")
    ] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="Currency of the budget (default: card's).")
    ] = None,
    time_zone: Annotated[
        str, typer.Option("--time-zone", help="IANA time zone for dates and days.")
    ] = "UTC",
    script: Annotated[
        str | None,
        typer.Option(
            "--script", help="Export Chinese text as simplified or traditional (default: as typed)."
        ),
    ] = None,
) -> None:
    """Add a project; every field is checked before anything is stored."""
    if policy_file is not None:
        check_policy_file(policy_file)
    overrides = tuple(parse_rate_override(text) for text in rate or ())
    zone = check_time_zone(time_zone)
    due = _parse_date(deadline, zone) if deadline else None
    amount = _parse_money(budget) if budget is not None else None
    if amount is not None and currency is None:
        currency = load_rate_card(rates_file or context.settings().rates_file).currency
    with context.database().session() as session:
        record = create_project(
            session,
            name,
            overlap=overlap,
            max_overlap=context.settings().max_overlap,
            rates_file=rates_file,
            rate_overrides=overrides,
            policy_file=policy_file,
            deadline=due,
            budget=amount,
            budget_currency=currency,
            time_zone=zone,
            script=script,
        )
    console.print(f"created project {record.name} (overlap {record.overlap})")


@projects_app.command("edit")
def projects_edit(
    name: Annotated[str, typer.Argument(help="The project.")],
    overlap: Annotated[
        int | None, typer.Option("--overlap", help="Independent transcriptions per clip.")
    ] = None,
    rates_file: Annotated[Path | None, typer.Option("--rates-file", help="Rate card TOML.")] = None,
    rate: Annotated[
        list[str] | None,
        typer.Option(
            "--rate", help="Add or replace an override: LANGUAGE[:GROUP]=AMOUNT[/MINUTES]"
        ),
    ] = None,
    policy_file: Annotated[
        Path | None, typer.Option("--policy-file", help="Agreement policy TOML.")
    ] = None,
    deadline: Annotated[
        str | None, typer.Option("--deadline", help="Date the work is due: 2026-03-31.")
    ] = None,
    budget: Annotated[
        str | None, typer.Option("--budget", help="Money the project may spend: 20000.")
    ] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="Currency of the budget.")
    ] = None,
    time_zone: Annotated[
        str | None, typer.Option("--time-zone", help="IANA time zone for dates and days.")
    ] = None,
    script: Annotated[
        str | None,
        typer.Option("--script", help="Export Chinese text as simplified or traditional."),
    ] = None,
) -> None:
    """Change a project's fields; only those given change, all checked before any is stored.
    Clips already published keep their price; the next dispatch and agree use the new values."""
    if policy_file is not None:
        check_policy_file(policy_file)
    overrides = tuple(parse_rate_override(text) for text in rate or ())
    zone = check_time_zone(time_zone) if time_zone is not None else None
    amount = _parse_money(budget) if budget is not None else None
    with context.database().session() as session:
        current = get_project(session, name)
        due = _parse_date(deadline, zone or current.time_zone) if deadline else None
        record = edit_project(
            session,
            name,
            max_overlap=context.settings().max_overlap,
            overlap=overlap,
            rates_file=rates_file,
            rate_overrides=overrides,
            policy_file=policy_file,
            deadline=due,
            budget=amount,
            budget_currency=currency,
            time_zone=zone,
            script=script,
        )
    console.print(f"updated project {record.name}")


@projects_app.command("list")
def projects_list(output: JsonFormat = TableOrJson.table) -> None:
    """Every project with its overlap, rates, deadline, budget and time zone."""
    with context.database().session() as session:
        records = list_projects(session)
    if output is TableOrJson.json:
        print_json([record.to_dict() for record in records])
        return
    print_rows([_row(record) for record in records], output, PROJECT_COLUMNS)


@projects_app.command("show")
def projects_show(
    name: Annotated[str, typer.Argument(help="The project.")],
    output: JsonFormat = TableOrJson.table,
) -> None:
    """One project's settings and the rates its clips are priced at."""
    with context.database().session() as session:
        record = get_project(session, name)
    card = record.rate_card(context.settings().rates_file)
    if output is TableOrJson.json:
        typer.echo(json.dumps({**record.to_dict(), "rate_card": card.to_dict()}, indent=2))
        return
    for key, value in _row(record).items():
        console.print(f"{key}: {value}")
    console.print(f"agreement policy: {record.policy_file or 'built-in'}")
    rows = [rate.to_dict() for rate in card.rates] + [card.default.to_dict()]
    print_rows(
        rows,
        output,
        ("language", "speaker_group", "amount", "minutes", "per_minute"),
        title=f"Rates ({card.currency})",
    )


def _row(record: ProjectRecord) -> dict[str, str | int]:
    budget = f"{record.budget:,.2f} {record.budget_currency or ''}".strip()
    return {
        "name": record.name,
        "overlap": record.overlap,
        "rates": (record.rates_file or "settings' card")
        + (f" + {len(record.rate_overrides)} override(s)" if record.rate_overrides else ""),
        "deadline": record.deadline.date().isoformat() if record.deadline else "",
        "budget": budget if record.budget is not None else "",
        "time_zone": record.time_zone,
        "script": record.script or "",
    }


def _parse_date(text: str, zone: str) -> datetime:
    """The end of that day in the project's time zone."""
    try:
        day = datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise InvalidInput(f"--deadline {text!r} is not a date like 2026-03-31") from None
    return datetime.combine(day.date(), time.max, tzinfo=ZoneInfo(zone))


def _parse_money(text: str) -> Decimal:
    try:
        amount = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise InvalidInput(f"--budget {text!r} is not an amount like 20000 or 1500.50") from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput(f"--budget must be 0 or more, not {text}")
    return amount
