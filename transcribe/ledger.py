"""Money owed to people for their transcriptions: pending when a counted submission lands,
then credited in full or discounted when review rejects the work. See docs/pricing.md."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Insert, Select, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crowdscribe.clock import as_utc, utc_now
from crowdscribe.errors import InvalidInput, NotFound
from crowdscribe.storage.models import LedgerEntry, PayoutItem, User
from crowdscribe.storage.states import LedgerKind, LedgerState
from transcribe.payouts import paid_amount
from transcribe.pricing import CENT, RateCard, default_rate_card, rejected_amount

STATES = tuple(LedgerState)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Earnings:
    """A person's totals in one currency; ``today`` counts entries created since the person's
    midnight; ``paid`` is what payouts have sent of the settled amount."""

    currency: str
    today: Decimal
    pending: Decimal
    credited: Decimal
    discounted: Decimal
    paid: Decimal = ZERO

    @property
    def settled(self) -> Decimal:
        """What review has decided so far: credited plus discounted."""
        return self.credited + self.discounted

    @property
    def unpaid(self) -> Decimal:
        """Settled work no payout has paid yet."""
        return self.settled - self.paid

    def to_dict(self) -> dict[str, str]:
        return {
            "currency": self.currency,
            "today": str(self.today),
            "pending": str(self.pending),
            "credited": str(self.credited),
            "discounted": str(self.discounted),
            "settled": str(self.settled),
            "paid": str(self.paid),
            "unpaid": str(self.unpaid),
        }


@dataclass(frozen=True)
class PayoutLine:
    """What one person is owed in one currency for settled work (credited + discounted)."""

    user_id: int
    name: str
    currency: str
    entries: int
    credited: Decimal
    discounted: Decimal
    pending: Decimal = field(default=ZERO)
    paid: Decimal = field(default=ZERO)

    @property
    def owed(self) -> Decimal:
        return self.credited + self.discounted

    @property
    def unpaid(self) -> Decimal:
        """What of ``owed`` no payout has paid yet."""
        return self.owed - self.paid

    def to_dict(self) -> dict[str, str | int]:
        return {
            "user_id": self.user_id,
            "name": self.name,
            "currency": self.currency,
            "entries": self.entries,
            "credited": str(self.credited),
            "discounted": str(self.discounted),
            "owed": str(self.owed),
            "pending": str(self.pending),
            "paid": str(self.paid),
            "unpaid": str(self.unpaid),
        }


def _cents(amount: Decimal | None) -> Decimal:
    return Decimal(amount or 0).quantize(CENT, rounding=ROUND_HALF_UP)


# Built once per dialect (building it cost more than running it): INSERT .. ON CONFLICT DO
# NOTHING keeps two concurrent accruals of one submission from failing each other.
# One pending entry per counted submission; a second insert (a retry, a re-run flow) is a no-op.
ACCRUE = {
    dialect: insert(LedgerEntry.__table__).on_conflict_do_nothing(index_elements=["submission_id"])
    for dialect, insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}
_ACCRUAL_COLUMNS = ("submission_id", "user_id", "clip_id", "amount", "currency", "created_at")


def check_amount(amount: Decimal) -> Decimal:
    """``amount`` if it can be owed: a finite, non-negative Decimal (never a float)."""
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
        raise InvalidInput(f"a ledger amount must be a non-negative Decimal, not {amount!r}")
    return amount


def accrue(
    session: Session,
    submission_id: int,
    user_id: int,
    clip_id: str,
    amount: Decimal,
    currency: str,
    now: datetime | None = None,
) -> None:
    """Record a pending payment for a counted submission; a second call for the same submission
    (a retried request, a re-run flow) leaves the first entry as it is."""
    values = {
        "submission_id": submission_id,
        "user_id": user_id,
        "clip_id": clip_id,
        "amount": check_amount(amount),
        "currency": currency,
        "state": LedgerState.PENDING,
        "created_at": utc_now(now),
    }
    session.flush()  # the Core insert below does not autoflush; pending rows may be referenced
    connection = session.connection()
    connection.execute(ACCRUE[connection.dialect.name], values)


def accruals_from(rows: Select) -> Insert:
    """PostgreSQL: ``accrue`` for each row of ``rows`` (submission_id, user_id, clip_id, amount,
    currency, created_at) as a statement to nest in a larger one, so a submission and its
    pending entry are stored in one round trip. Check each amount with ``check_amount`` first."""
    pending = rows.add_columns(literal(LedgerState.PENDING.value))
    return (
        postgresql_insert(LedgerEntry.__table__)
        .from_select([*_ACCRUAL_COLUMNS, "state"], pending)
        .on_conflict_do_nothing(index_elements=["submission_id"])
    )


def settle_submission(
    session: Session, submission_id: int, accepted: bool, card: RateCard, now: datetime
) -> str | None:
    """Decide a pending entry: credited at full price when review accepts the work, discounted
    to price x ``card.rejected_factor`` when it rejects it. The first decision stands; returns
    the entry's state, or None when the submission earned nothing (late, never accrued)."""
    # Lock the entry before reading it (a row lock on PostgreSQL, the write lock on SQLite), so
    # two reviewers settling the same work at once queue instead of both deciding it.
    mine = LedgerEntry.submission_id == submission_id
    session.execute(update(LedgerEntry).where(mine).values(state=LedgerEntry.state))
    row = session.execute(
        select(LedgerEntry.id, LedgerEntry.state, LedgerEntry.amount).where(mine)
    ).one_or_none()
    if row is None:
        return None
    if row.state != LedgerState.PENDING:
        return row.state
    values: dict[str, object] = {"state": LedgerState.CREDITED, "decided_at": as_utc(now)}
    if not accepted:
        values.update(
            state=LedgerState.DISCOUNTED, amount=rejected_amount(Decimal(row.amount), card)
        )
    session.execute(update(LedgerEntry).where(LedgerEntry.id == row.id).values(**values))
    return str(values["state"])


def appeal_credit(full_price: Decimal, paid: Decimal) -> Decimal:
    """What an upheld appeal adds: the full price less what the entry paid (never negative)."""
    return max(_cents(full_price) - _cents(paid), ZERO)


def work_total(session: Session, entry_id: int) -> Decimal:
    """What the work of accrual ``entry_id`` pays now: the entry and every adjustment of it."""
    total = session.scalar(
        select(func.sum(LedgerEntry.amount)).where(
            (LedgerEntry.id == entry_id) | (LedgerEntry.adjusts_entry_id == entry_id)
        )
    )
    return _cents(total)


def record_adjustment(
    session: Session,
    entry_id: int,
    amount: Decimal,
    *,
    reason: str,
    now: datetime,
    state: LedgerState | None = None,
) -> LedgerEntry:
    """The one way to correct what a piece of work pays: a new entry of kind ``adjustment`` for
    the work of accrual ``entry_id``, ``amount`` more (or less, when negative), in its currency,
    decided now with ``reason``; in the entry's state unless ``state`` says otherwise (an upheld
    appeal credits). The adjusted entry itself is never changed, so the ledger keeps its history."""
    entry = session.get(LedgerEntry, entry_id)
    if entry is None:
        raise NotFound(f"there is no ledger entry {entry_id}")
    if entry.kind != LedgerKind.ACCRUAL:
        raise InvalidInput(f"ledger entry {entry_id} is an adjustment; adjust the work's accrual")
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise InvalidInput(f"an adjustment must be a finite Decimal, not {amount!r}")
    if not reason.strip():
        raise InvalidInput("an adjustment needs a reason, kept with the entry")
    adjustment = LedgerEntry(
        user_id=entry.user_id,
        submission_id=None,
        clip_id=entry.clip_id,
        amount=amount,
        currency=entry.currency,
        state=state or entry.state,
        created_at=as_utc(now),
        decided_at=as_utc(now),
        kind=LedgerKind.ADJUSTMENT,
        adjusts_entry_id=entry.id,
        reason=reason.strip(),
    )
    session.add(adjustment)
    session.flush()
    return adjustment


def _totals_by_currency(
    session: Session, user_id: int, since: datetime | None = None
) -> dict[str, dict[str, Decimal]]:
    query = select(LedgerEntry.currency, LedgerEntry.state, func.sum(LedgerEntry.amount)).where(
        LedgerEntry.user_id == user_id
    )
    if since is not None:
        query = query.where(LedgerEntry.created_at >= since)
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(STATES, ZERO))
    for currency, state, amount in session.execute(
        query.group_by(LedgerEntry.currency, LedgerEntry.state)
    ):
        totals[currency][state] = _cents(amount)
    return totals


def earnings_for(
    session: Session,
    user_id: int,
    now: datetime,
    currency: str | None = None,
    *,
    time_zone: tzinfo = UTC,
) -> Earnings:
    """A person's earnings: today's (since midnight of ``now`` in ``time_zone``, the person's
    day), pending, credited and discounted, in ``currency``; by default that of their newest
    entry (the card's if none)."""
    if session.get(User, user_id) is None:
        raise NotFound(f"there is no person with id {user_id}")
    local = as_utc(now).astimezone(time_zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    totals = _totals_by_currency(session, user_id)
    today = _totals_by_currency(session, user_id, since=midnight)
    if currency is None:
        currency = (
            session.scalar(
                select(LedgerEntry.currency)
                .where(LedgerEntry.user_id == user_id)
                .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
                .limit(1)
            )
            or default_rate_card().currency
        )
    states = totals.get(currency, dict.fromkeys(STATES, ZERO))
    return Earnings(
        currency=currency,
        today=_cents(sum(today.get(currency, {}).values(), ZERO)),
        pending=states[LedgerState.PENDING],
        credited=states[LedgerState.CREDITED],
        discounted=states[LedgerState.DISCOUNTED],
        paid=paid_amount(session, user_id, currency),
    )


# The columns of a settlement report, in order: the CLI's CSV and the settle flow's file.
SETTLEMENT_FIELDS = (
    "user_id",
    "name",
    "currency",
    "entries",
    "credited",
    "discounted",
    "owed",
    "paid",
    "unpaid",
    "pending",
)


def settlement_report(session: Session, since: datetime | None = None) -> list[PayoutLine]:
    """What each person is owed for settled work (credited + discounted), and how much of it
    payouts have paid, one line per person and currency, ordered by name; ``since`` keeps work
    decided at or after that moment."""
    settled = (
        select(
            LedgerEntry.user_id,
            User.name,
            LedgerEntry.currency,
            LedgerEntry.state,
            func.count(LedgerEntry.id),
            func.sum(LedgerEntry.amount),
        )
        .join(User, User.id == LedgerEntry.user_id)
        .where(LedgerEntry.state.in_((LedgerState.CREDITED, LedgerState.DISCOUNTED)))
        .group_by(LedgerEntry.user_id, User.name, LedgerEntry.currency, LedgerEntry.state)
    )
    paid = (
        select(LedgerEntry.user_id, LedgerEntry.currency, func.sum(PayoutItem.amount))
        .join(PayoutItem, PayoutItem.ledger_entry_id == LedgerEntry.id)
        .where(LedgerEntry.state.in_((LedgerState.CREDITED, LedgerState.DISCOUNTED)))
        .group_by(LedgerEntry.user_id, LedgerEntry.currency)
    )
    if since is not None:
        settled = settled.where(LedgerEntry.decided_at >= as_utc(since))
        paid = paid.where(LedgerEntry.decided_at >= as_utc(since))
    pending = (
        select(LedgerEntry.user_id, LedgerEntry.currency, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.state == LedgerState.PENDING)
        .group_by(LedgerEntry.user_id, LedgerEntry.currency)
    )
    lines: dict[tuple[int, str, str], dict[str, Decimal | int]] = defaultdict(
        lambda: {"entries": 0, "credited": ZERO, "discounted": ZERO}
    )
    for user_id, name, currency, state, count, amount in session.execute(settled):
        line = lines[(user_id, name, currency)]
        line["entries"] += count
        line[state] = _cents(amount)
    pending_totals = {(u, c): _cents(amount) for u, c, amount in session.execute(pending)}
    paid_totals = {(u, c): _cents(amount) for u, c, amount in session.execute(paid)}
    report = [
        PayoutLine(
            user_id,
            name,
            currency,
            **values,
            pending=pending_totals.get((user_id, currency), ZERO),
            paid=paid_totals.get((user_id, currency), ZERO),
        )
        for (user_id, name, currency), values in lines.items()
    ]
    return sorted(report, key=lambda line: (line.name, line.currency))
