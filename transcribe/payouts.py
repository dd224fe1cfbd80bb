"""Payouts: settled, unpaid ledger entries become one batch per currency, and each entry is
recorded as paid by that batch (``payout_items``) in the same transaction. Entries themselves
are never edited; an entry can be in one payout only (unique), so paying twice is impossible."""

from __future__ import annotations

import csv
import io
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from crowdscribe.clock import as_utc
from crowdscribe.errors import NotFound
from crowdscribe.storage.models import LedgerEntry, Payout, PayoutItem, User
from crowdscribe.storage.states import LedgerState
from transcribe.dispatch.writes import begin_session_write
from transcribe.pricing import CENT

SETTLED_STATES = (LedgerState.CREDITED, LedgerState.DISCOUNTED)
PAYOUTS_DIR = "payouts"
# Any constant shared by every payout run: PostgreSQL's transaction-scoped advisory lock on it
# makes a second concurrent run wait, then find nothing left to pay.
_PAYOUT_LOCK_KEY = 0x70617900


@dataclass(frozen=True)
class PayeeLine:
    """What one person receives in a payout: their entries and the sum, in the batch currency."""

    user_id: int
    name: str
    entries: int
    amount: Decimal

    def to_dict(self) -> dict[str, str | int]:
        return {
            "user_id": self.user_id,
            "name": self.name,
            "entries": self.entries,
            "amount": str(self.amount),
        }


@dataclass(frozen=True)
class PayoutBatch:
    """One payout in one currency, with a line per person."""

    id: int
    currency: str
    until_at: datetime
    created_at: datetime
    total: Decimal
    entries: int
    file_path: Path
    lines: tuple[PayeeLine, ...]

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "currency": self.currency,
            "until": self.until_at.isoformat(),
            "created_at": self.created_at.isoformat(),
            "total": str(self.total),
            "entries": self.entries,
            "people": len(self.lines),
            "file": str(self.file_path),
            "lines": [line.to_dict() for line in self.lines],
        }


def _cents(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def end_of_day(day: datetime) -> datetime:
    """The first moment after the UTC day of ``day``: ``--until`` includes the whole day."""
    midnight = as_utc(day).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + timedelta(days=1)


def _lock_payouts(session: Session) -> None:
    # Two runs at once must not both read the same unpaid entries: SQLite takes its write lock
    # before reading, PostgreSQL waits on an advisory lock held until commit.
    if session.connection().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PAYOUT_LOCK_KEY})
    else:
        begin_session_write(session)


def create_payouts(
    session: Session, *, until: datetime, payouts_dir: Path, now: datetime
) -> list[PayoutBatch]:
    """Pay every settled (credited or discounted), unpaid entry decided before ``until``: one
    batch per currency, its items marking the entries paid. Commit with the caller's
    transaction, then ``write_payout_files``. Nothing left to pay makes no batch."""
    _lock_payouts(session)
    unpaid = session.execute(
        select(LedgerEntry.id, LedgerEntry.user_id, LedgerEntry.currency, LedgerEntry.amount)
        .outerjoin(PayoutItem, PayoutItem.ledger_entry_id == LedgerEntry.id)
        .where(
            PayoutItem.id.is_(None),
            LedgerEntry.state.in_(SETTLED_STATES),
            LedgerEntry.decided_at < as_utc(until),
        )
        .order_by(LedgerEntry.currency, LedgerEntry.id)
    ).all()
    by_currency: dict[str, list] = defaultdict(list)
    for row in unpaid:
        by_currency[row.currency].append(row)
    batches = []
    for currency, rows in by_currency.items():
        payout = Payout(
            currency=currency,
            until_at=as_utc(until),
            total=_cents(sum((Decimal(row.amount) for row in rows), Decimal(0))),
            entries=len(rows),
            people=len({row.user_id for row in rows}),
            file_path="",
            created_at=as_utc(now),
        )
        session.add(payout)
        session.flush()
        payout.file_path = str(Path(payouts_dir) / f"payout-{payout.id:05d}-{currency}.csv")
        session.execute(
            insert(PayoutItem),
            [
                {
                    "payout_id": payout.id,
                    "ledger_entry_id": row.id,
                    "user_id": row.user_id,
                    "amount": row.amount,
                }
                for row in rows
            ],
        )
        session.flush()
        batches.append(payout_batch(session, payout.id))
    return batches


def payout_batch(session: Session, payout_id: int) -> PayoutBatch:
    """One payout with its per-person lines, ordered by name."""
    payout = session.get(Payout, payout_id)
    if payout is None:
        raise NotFound(f"there is no payout {payout_id}; see `crowdscribe payouts list`")
    rows = session.execute(
        select(User.id, User.name, func.count(PayoutItem.id), func.sum(PayoutItem.amount))
        .join(User, User.id == PayoutItem.user_id)
        .where(PayoutItem.payout_id == payout_id)
        .group_by(User.id, User.name)
        .order_by(User.name)
    )
    lines = tuple(
        PayeeLine(user_id, name, count, _cents(amount)) for user_id, name, count, amount in rows
    )
    return PayoutBatch(
        id=payout.id,
        currency=payout.currency,
        until_at=as_utc(payout.until_at),
        created_at=as_utc(payout.created_at),
        total=_cents(payout.total),
        entries=payout.entries,
        file_path=Path(payout.file_path),
        lines=lines,
    )


def list_payouts(session: Session) -> list[PayoutBatch]:
    """Every payout, newest first."""
    ids = session.scalars(select(Payout.id).order_by(Payout.id.desc())).all()
    return [payout_batch(session, payout_id) for payout_id in ids]


def payout_csv(batch: PayoutBatch) -> str:
    """The payment file: one line per person with the amount and currency."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["payout_id", "user_id", "name", "entries", "amount", "currency"])
    for line in batch.lines:
        writer.writerow(
            [batch.id, line.user_id, line.name, line.entries, line.amount, batch.currency]
        )
    return buffer.getvalue()


def write_payout_files(batch: PayoutBatch) -> tuple[Path, Path]:
    """Write the batch's CSV (at its ``file_path``) and a JSON twin beside it, each whole or
    not at all; run after the commit, and again at will (the database is the record)."""
    csv_path = batch.file_path
    json_path = csv_path.with_suffix(".json")
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    for path, content in (
        (csv_path, payout_csv(batch)),
        (json_path, json.dumps(batch.to_dict(), indent=2, ensure_ascii=False) + "\n"),
    ):
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_text(content, encoding="utf-8")
        partial.replace(path)
    return csv_path, json_path


def paid_amount(session: Session, user_id: int, currency: str) -> Decimal:
    """How much of a person's work in ``currency`` has gone out in payouts."""
    total = session.scalar(
        select(func.sum(PayoutItem.amount))
        .join(Payout, Payout.id == PayoutItem.payout_id)
        .where(PayoutItem.user_id == user_id, Payout.currency == currency)
    )
    return _cents(total or Decimal(0))


def paid_entry_ids(session: Session, entry_ids: list[int]) -> set[int]:
    """Which of ``entry_ids`` a payout has paid."""
    if not entry_ids:
        return set()
    return set(
        session.scalars(
            select(PayoutItem.ledger_entry_id).where(PayoutItem.ledger_entry_id.in_(entry_ids))
        )
    )
