"""``crowdscribe payouts`` as a coordinator runs it every week: create twice, pay once."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.cli import context, payout_cmds
from crowdscribe.errors import InvalidInput, NotFound
from crowdscribe.storage.db import Database
from tests.cli.test_pay_cli import paid_work


@pytest.fixture
def run(run_commands):
    return run_commands(payout_cmds)


@pytest.fixture
def db(home: Path) -> Database:
    return context.database()


def test_payouts_created_twice_pay_once(run, db, home) -> None:
    paid_work(db, home)
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    first = run("payouts", "create", "--until", today, "--format", "json")
    assert first.exit_code == 0, first.output
    (batch,) = json.loads(first.output)
    # mei: two credited clips of 0.58; jun: one discounted; mei's pending clip waits.
    assert [(line["name"], line["entries"]) for line in batch["lines"]] == [("jun", 1), ("mei", 2)]
    rows = list(csv.DictReader(io.StringIO(Path(batch["file"]).read_text(encoding="utf-8"))))
    assert [(row["name"], row["amount"]) for row in rows] == [
        (line["name"], line["amount"]) for line in batch["lines"]
    ]
    assert Path(batch["file"]).parent == home / "payouts"
    assert Path(batch["file"]).with_suffix(".json").is_file()

    second = run("payouts", "create", "--until", today)
    assert second.exit_code == 0
    assert "nothing to pay" in second.output
    listed = run("payouts", "list", "--format", "json")
    assert [payout["id"] for payout in json.loads(listed.output)] == [batch["id"]]
    table = run("payouts", "list")
    assert batch["total"] in table.output and "CNY" in table.output
    shown = run("payouts", "show", str(batch["id"]))
    assert "mei" in shown.output and "1.16" in shown.output


def test_payouts_before_the_work_pay_nothing(run, db, home) -> None:
    paid_work(db, home)
    result = run("payouts", "create", "--until", "2000-01-01")
    assert "nothing to pay" in result.output
    assert not (home / "payouts").exists()


def test_payouts_refuse_a_bad_date_and_an_unknown_payout(run, db) -> None:
    result = run("payouts", "create", "--until", "next friday")
    assert isinstance(result.exception, InvalidInput)
    assert "not a date like" in str(result.exception)
    missing = run("payouts", "show", "99")
    assert isinstance(missing.exception, NotFound)
