"""Settle: the payout report (what each person is owed for decided work) written as CSV into
the data home's reports/ folder and shown as a table artifact, for scheduled runs."""

from __future__ import annotations

import csv
from datetime import datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from crowdscribe.clock import utc_now
from flows._runtime import migrate, retry_transient, task_database
from transcribe.ledger import SETTLEMENT_FIELDS, settlement_report


@task(
    name="payout-lines",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=retry_transient,
)
def payout_lines(home: str | None, since: datetime | None) -> list[dict[str, Any]]:
    """One line per person and currency: credited plus discounted work owed."""
    with task_database(home).session() as session:
        return [line.to_dict() for line in settlement_report(session, since=since)]


@flow(name="settle")
def settle(since: datetime | None = None, home: str | None = None) -> dict[str, Any]:
    """Write the payout report for work decided since ``since`` (else all) to
    HOME/reports/payouts-<UTC time>.csv and return its path and line count."""
    settings = migrate(home)
    lines = payout_lines(home, since)
    folder = settings.home_dir / "reports"
    folder.mkdir(exist_ok=True)
    path = folder / f"payouts-{utc_now():%Y%m%dT%H%M%SZ}.csv"
    with path.open("w", newline="") as output:
        writer = csv.DictWriter(output, fieldnames=SETTLEMENT_FIELDS)
        writer.writeheader()
        writer.writerows(lines)
    create_table_artifact(lines, key="payouts", description=f"Payout report {path.name}")
    get_run_logger().info("payout report for %d person(s): %s", len(lines), path)
    return {"report": str(path), "lines": len(lines)}
