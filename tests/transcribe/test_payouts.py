"""Payouts on SQLite and PostgreSQL: settled, unpaid work is paid once, per currency, and the
ledger entries are never changed."""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from crowdscribe.storage.db import MIGRATIONS_DIR, Database
from crowdscribe.storage.models import Clip, LedgerEntry, Payout, PayoutItem, User
from tests.builders import add_recording, add_submitted
from transcribe.ledger import accrue, earnings_for, settle_submission, settlement_report
from transcribe.payouts import (
    create_payouts,
    end_of_day,
    list_payouts,
    payout_batch,
    write_payout_files,
)
from transcribe.pricing import default_rate_card

CARD = default_rate_card()
MONDAY = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
UNTIL_MONDAY = end_of_day(MONDAY)


def settlement_report_of(database: Database):
    with database.session() as session:
        return settlement_report(session)


def seed_work(session: Session) -> dict[str, int]:
    """mei: two credited CNY transcripts on Monday and one pending; jun: one discounted CNY
    on Monday, one credited USD on Monday, and one credited CNY on Wednesday."""
    users = {}
    for name in ("mei", "jun"):
        user = User(name=name, roles="transcriber", token_digest=f"digest-{name}")
        session.add(user)
        session.flush()
        users[name] = user.id
    recording = add_recording(session, "/data/pay.wav", language="yue")
    work = [
        ("mei", "CNY", True, MONDAY),
        ("mei", "CNY", True, MONDAY),
        ("mei", "CNY", None, MONDAY),
        ("jun", "CNY", False, MONDAY),
        ("jun", "USD", True, MONDAY),
        ("jun", "CNY", True, MONDAY + timedelta(days=2)),
    ]
    for number, (name, currency, accepted, decided) in enumerate(work):
        clip_id = f"pay-{number}"
        session.add(
            Clip(
                id=clip_id,
                recording_id=recording.id,
                start_s=0.0,
                end_s=2.0,
                duration_s=2.0,
                audio_path=f"clips/{clip_id}.flac",
                language="yue",
                speaker_group="adult",
                project="default",
            )
        )
        session.flush()
        submission_id = add_submitted(session, clip_id, users[name], "佢哋", MONDAY)
        accrue(session, submission_id, users[name], clip_id, Decimal("1.20"), currency, MONDAY)
        if accepted is not None:
            settle_submission(session, submission_id, accepted, CARD, decided)
    return users


def test_payout_pays_settled_unpaid_work_once_per_currency(
    database: Database, tmp_path: Path
) -> None:
    with database.session() as session:
        users = seed_work(session)
    with database.session() as session:
        amounts_before = dict(session.execute(select(LedgerEntry.id, LedgerEntry.amount)).all())
        batches = create_payouts(
            session, until=UNTIL_MONDAY, payouts_dir=tmp_path, now=MONDAY + timedelta(days=3)
        )
    by_currency = {batch.currency: batch for batch in batches}
    assert sorted(by_currency) == ["CNY", "USD"]
    cny = by_currency["CNY"]
    # mei 2 x 1.20 credited; jun 1.20 discounted to the rejected factor; Wednesday's waits.
    jun_discounted = (Decimal("1.20") * CARD.rejected_factor).quantize(Decimal("0.01"))
    assert [(line.name, line.entries, line.amount) for line in cny.lines] == [
        ("jun", 1, jun_discounted),
        ("mei", 2, Decimal("2.40")),
    ]
    assert cny.total == Decimal("2.40") + jun_discounted
    assert by_currency["USD"].lines[0].amount == Decimal("1.20")

    with database.session() as session:
        again = create_payouts(
            session, until=UNTIL_MONDAY, payouts_dir=tmp_path, now=MONDAY + timedelta(days=3)
        )
        assert again == []
        assert session.scalar(select(func.count()).select_from(Payout)) == 2
        amounts_after = dict(session.execute(select(LedgerEntry.id, LedgerEntry.amount)).all())
        states = set(session.scalars(select(LedgerEntry.state)))
        mei = earnings_for(session, users["mei"], MONDAY, currency="CNY")
    report = {(line.name, line.currency): line for line in settlement_report_of(database)}
    assert report[("mei", "CNY")].unpaid == Decimal("0.00")
    assert report[("jun", "CNY")].paid == jun_discounted
    assert report[("jun", "CNY")].unpaid == Decimal("1.20")  # Wednesday's, after --until
    assert amounts_after == amounts_before
    assert states == {"pending", "credited", "discounted"}
    assert (mei.paid, mei.unpaid, mei.pending) == (
        Decimal("2.40"),
        Decimal("0.00"),
        Decimal("1.20"),
    )

    with database.session() as session:
        later = create_payouts(
            session,
            until=end_of_day(MONDAY + timedelta(days=2)),
            payouts_dir=tmp_path,
            now=MONDAY + timedelta(days=3),
        )
        jun = earnings_for(session, users["jun"], MONDAY, currency="CNY")
    assert [(b.currency, [line.name for line in b.lines], b.total) for b in later] == [
        ("CNY", ["jun"], Decimal("1.20"))
    ]
    assert jun.paid == jun.settled == Decimal("1.20") + jun_discounted


def test_payout_files_hold_one_line_per_person(database: Database, tmp_path: Path) -> None:
    with database.session() as session:
        seed_work(session)
        batches = create_payouts(
            session, until=UNTIL_MONDAY, payouts_dir=tmp_path, now=MONDAY + timedelta(days=1)
        )
    cny = next(batch for batch in batches if batch.currency == "CNY")
    csv_path, json_path = write_payout_files(cny)
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    assert [(row["name"], row["amount"], row["currency"]) for row in rows] == [
        (line.name, str(line.amount), "CNY") for line in cny.lines
    ]
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert document["total"] == str(cny.total)
    assert csv_path.parent == tmp_path and csv_path.name == f"payout-{cny.id:05d}-CNY.csv"
    with database.session() as session:
        assert payout_batch(session, cny.id) == cny
        assert [batch.id for batch in list_payouts(session)] == sorted(
            (batch.id for batch in batches), reverse=True
        )


def test_concurrent_payout_runs_pay_each_entry_once(database: Database, tmp_path: Path) -> None:
    with database.session() as session:
        seed_work(session)
    start = threading.Barrier(4)
    made: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            with database.session() as session:
                batches = create_payouts(
                    session, until=UNTIL_MONDAY, payouts_dir=tmp_path, now=MONDAY
                )
                made.extend(batch.entries for batch in batches)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(made) == 4  # mei's 2, jun's discounted CNY and his USD entry
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Payout)) == 2
        paid = session.scalars(select(PayoutItem.ledger_entry_id)).all()
    assert len(paid) == len(set(paid)) == 4


def test_migration_0003_downgrades_and_upgrades(database: Database) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
        assert "payouts" not in inspect(connection).get_table_names()
        command.upgrade(config, "head")
        assert {"payouts", "payout_items"} <= set(inspect(connection).get_table_names())
