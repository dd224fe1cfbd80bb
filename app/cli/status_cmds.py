"""``crowdscribe status``: the coordinator dashboard's figures in the terminal or as JSON."""

from __future__ import annotations

import typer

from app.cli import context
from app.cli.output import JsonFormat, TableOrJson, console, print_json, rows_table
from crowdscribe.clock import utc_now
from review.campaign_status import CampaignStatus, status_of_campaign
from transcribe.pricing import load_rate_card


def register(app: typer.Typer) -> None:
    """Add ``status`` to the ``crowdscribe`` app."""
    app.command(name="status")(status)


def status(output: JsonFormat = TableOrJson.table) -> None:
    """Where the campaign stands: clips by state, progress, throughput, spend against each
    project's budget with its projection, agreement per language, reviewer
    backlog and paused people; the same figures as the /coordinator page."""
    settings = context.settings()
    with context.database().session() as session:
        figures = status_of_campaign(
            session,
            now=utc_now(),
            card=load_rate_card(settings.rates_file),
            default_overlap=settings.default_overlap,
        )
    if output is TableOrJson.json:
        print_json(figures.to_dict())
        return
    _print_tables(figures)


def _print_tables(figures: CampaignStatus) -> None:
    states = " · ".join(f"{state} {count}" for state, count in figures.clips_by_state.items())
    console.print(f"clips: {states or 'none yet'}")
    console.print(
        f"audio: {figures.final_hours:.1f} of {figures.audio_hours:.1f} h final; "
        f"reviewer backlog {figures.backlog_open} open disputes"
        + (
            f", oldest {figures.backlog_oldest_h:.1f} h"
            if figures.backlog_oldest_h is not None
            else ""
        )
    )
    spend_rows = [
        {
            "project": s.project,
            "currency": s.currency,
            "spent": str(s.spent),
            "budget": "–" if s.budget is None else str(s.budget),
            "projected": str(s.projected_total),
            "per day": str(s.per_day),
            "end": "–" if s.projected_end is None else s.projected_end.isoformat(),
            "over": "yes" if s.over_budget else "",
        }
        for s in figures.spend
    ]
    spend_columns = (
        "project",
        "currency",
        "spent",
        "budget",
        "projected",
        "per day",
        "end",
        "over",
    )
    console.print(
        rows_table(spend_rows, spend_columns, title="Spend", right_aligned=spend_columns[2:6])
    )
    language_rows = [
        {
            "language": row.language,
            "agreed": row.agreed,
            "disputed": row.disputed,
            "agreement": _percent(row.agreement_rate),
            "dispute rate": _percent(row.dispute_rate),
        }
        for row in figures.languages
    ]
    language_columns = ("language", "agreed", "disputed", "agreement", "dispute rate")
    console.print(
        rows_table(
            language_rows, language_columns, title="Agreement", right_aligned=language_columns[1:]
        )
    )
    day_rows = [
        {
            "day": day.isoformat(),
            "transcripts": count,
            "audio min": f"{minutes:.1f}",
            "final": final,
        }
        for (day, count, minutes), (_day, final) in zip(
            figures.throughput, figures.progress, strict=True
        )
    ]
    day_columns = ("day", "transcripts", "audio min", "final")
    console.print(rows_table(day_rows, day_columns, title="Per day", right_aligned=day_columns[1:]))
    paused = ", ".join(f"{p['name']} ({p['language']})" for p in figures.paused)
    console.print(f"paused: {paused or 'nobody'}")
    stuck = ", ".join(f"{count} {kind}" for kind, count in figures.stuck_by_kind.items())
    console.print(f"stuck: {stuck} (see `crowdscribe stuck list`)" if stuck else "stuck: nothing")


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.0%}"
