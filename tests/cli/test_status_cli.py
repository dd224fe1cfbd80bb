"""``crowdscribe status``: the dashboard's figures in the terminal and as JSON."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from app.cli import context, status_cmds
from tests.cli.test_pay_cli import paid_work
from transcribe.projects import create_project


@pytest.fixture
def run(run_commands):
    return run_commands(status_cmds)


def test_status_prints_the_dashboard_figures(run, home: Path) -> None:
    paid_work(context.database(), home)
    with context.database().session() as session:
        create_project(session, "p1", overlap=2, max_overlap=5, budget=Decimal("1.00"))
    # typer runs the only command of an app without its name
    result = run("--format", "json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["clips_by_state"] == {"agreed": 2, "unusable": 1}
    (spend,) = figures["spend"]
    # mei: 0.58 + 0.58 credited + 0.58 pending; jun: 0.58 discounted to 0.29
    assert (spend["project"], spend["spent"], spend["budget"]) == ("p1", "2.03", "1.00")
    assert Decimal(spend["projected_total"]) == Decimal("2.03")
    assert figures["throughput"][-1]["transcripts"] == 4
    assert [row["language"] for row in figures["languages"]] == ["yue"]
    table = run()
    assert table.exit_code == 0, table.output
    assert (
        "agreed 2" in table.output and "2.03" in table.output and "paused: nobody" in table.output
    )
