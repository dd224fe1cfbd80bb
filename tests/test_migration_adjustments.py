"""Migration 0004_coord: both old shapes of a ledger correction (an upheld appeal stored as an
accrual naming its entry; a relabel adjustment naming none) become one: kind 'adjustment', the
accrual it adjusts, and a reason. Amounts, states and dates are kept."""

from __future__ import annotations

from decimal import Decimal

from alembic import command
from sqlalchemy import select, text

from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Appeal, LedgerEntry
from tests.builders import T0, add_clips, add_person, add_submitted
from tests.test_migration_projects import _run
from transcribe.ledger import accrue, record_adjustment, settle_submission
from transcribe.pricing import default_rate_card


def test_old_corrections_take_the_one_shape_and_keep_their_amounts(database: Database) -> None:
    with database.session() as session:
        ann = add_person(session, "ann").person
        first, second = add_clips(session, 2)
        entries, submissions = [], []
        for clip_id in (first, second):
            submission_id = add_submitted(session, clip_id, ann.id, "hello")
            submissions.append(submission_id)
            accrue(session, submission_id, ann.id, clip_id, Decimal("1.00"), "CNY", T0)
            settle_submission(session, submission_id, False, default_rate_card(), T0)
            entries.append(session.scalar(select(LedgerEntry.id).order_by(LedgerEntry.id.desc())))
        appeal_credit = record_adjustment(
            session, entries[0], Decimal("0.50"), reason="x", now=T0, state="credited"
        ).id
        relabel = record_adjustment(session, entries[1], Decimal("0.25"), reason="child", now=T0).id
        session.add(
            Appeal(
                user_id=ann.id, submission_id=submissions[0], state="upheld", note="n",
                created_at=T0,
                adjustment_id=appeal_credit,
            )
        )  # fmt: skip
    before = _rows(database)
    _run(database, command.downgrade, "0003_coord_money")
    with database.engine.begin() as connection:
        # As 0003 stored them.
        connection.execute(
            text("UPDATE ledger_entries SET kind = 'accrual', reason = NULL WHERE id = :id"),
            {"id": appeal_credit},
        )
        connection.execute(
            text("UPDATE ledger_entries SET adjusts_entry_id = NULL WHERE id = :id"),
            {"id": relabel},
        )
    _run(database, command.upgrade, "head")
    after = _rows(database)
    appeal_id = after[appeal_credit]["appeal"]
    assert after[appeal_credit]["shape"] == ("adjustment", entries[0], f"appeal {appeal_id} upheld")
    assert after[relabel]["shape"] == ("adjustment", entries[1], "child")
    assert {i: r["money"] for i, r in after.items()} == {i: r["money"] for i, r in before.items()}


def _rows(database: Database) -> dict[int, dict]:
    with database.session() as session:
        appeals = {a.adjustment_id: a.id for a in session.scalars(select(Appeal))}
        return {
            entry.id: {
                "shape": (entry.kind, entry.adjusts_entry_id, entry.reason),
                "money": (Decimal(entry.amount), entry.state, entry.currency, entry.decided_at),
                "appeal": appeals.get(entry.id),
            }
            for entry in session.scalars(select(LedgerEntry))
        }
