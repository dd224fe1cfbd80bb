"""The earnings ledger on SQLite and PostgreSQL: accrual, settlement, totals and payouts."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crowdscribe.errors import InvalidInput, NotFound
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Clip, LedgerEntry, Recording, User
from tests.builders import add_recording, add_submitted
from transcribe.ledger import (
    Earnings,
    accrue,
    earnings_for,
    settle_submission,
    settlement_report,
)
from transcribe.pricing import default_rate_card

NOON = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
CARD = default_rate_card()


def add_user(session: Session, name: str) -> int:
    user = User(name=name, roles="transcriber", languages="yue", token_digest=f"digest-{name}")
    session.add(user)
    session.flush()
    return user.id


def add_clip(session: Session, clip_id: str, price: str = "0.58") -> str:
    recording = session.scalar(select(Recording).limit(1))
    if recording is None:
        recording = add_recording(session, "/data/field-1.wav", language="yue", project="p1")
    session.add(
        Clip(
            id=clip_id,
            recording_id=recording.id,
            start_s=0.0,
            end_s=15.0,
            duration_s=15.0,
            audio_path=f"clips/{clip_id}.flac",
            language="yue",
            speaker_group="adult",
            project="p1",
            status="published",
            price=Decimal(price),
            currency="CNY",
        )
    )
    session.flush()
    return clip_id


def add_submission(session: Session, clip_id: str, user_id: int) -> int:
    return add_submitted(session, clip_id, user_id, "佢哋", NOON)


def counted_work(session: Session, name: str, clips: list[str], price: str = "0.58") -> tuple:
    """A person with one accrued submission per clip; returns (user id, submission ids)."""
    user_id = add_user(session, name)
    submission_ids = []
    for clip_id in clips:
        if session.get(Clip, clip_id) is None:
            add_clip(session, clip_id, price)
        submission_id = add_submission(session, clip_id, user_id)
        accrue(session, submission_id, user_id, clip_id, Decimal(price), "CNY", now=NOON)
        submission_ids.append(submission_id)
    return user_id, submission_ids


def test_accruing_the_same_submission_twice_keeps_one_pending_entry(database: Database) -> None:
    with database.session() as session:
        user_id, (submission_id,) = counted_work(session, "mei", ["c1"])
        accrue(session, submission_id, user_id, "c1", Decimal("0.58"), "CNY", now=NOON)
    with database.session() as session:
        # a retried request in a later transaction changes nothing either
        accrue(session, submission_id, user_id, "c1", Decimal("9.99"), "CNY", now=NOON)
    with database.session() as session:
        entries = session.scalars(select(LedgerEntry)).all()
        assert len(entries) == 1
        assert entries[0].state == "pending"
        assert entries[0].amount == Decimal("0.58")
        assert entries[0].decided_at is None


def test_float_amount_is_refused(database: Database) -> None:
    with database.session() as session:
        user_id = add_user(session, "mei")
        add_clip(session, "c1")
        submission_id = add_submission(session, "c1", user_id)
        with pytest.raises(InvalidInput, match="Decimal"):
            accrue(session, submission_id, user_id, "c1", 0.58, "CNY")  # type: ignore[arg-type]


def test_accepted_work_is_credited_in_full_and_rejected_work_at_the_factor(
    database: Database,
) -> None:
    with database.session() as session:
        user_id, (good, bad) = counted_work(session, "mei", ["c1", "c2"])
        assert settle_submission(session, good, True, CARD, NOON) == "credited"
        assert settle_submission(session, bad, False, CARD, NOON) == "discounted"
    with database.session() as session:
        credited = session.scalar(select(LedgerEntry).where(LedgerEntry.submission_id == good))
        discounted = session.scalar(select(LedgerEntry).where(LedgerEntry.submission_id == bad))
        assert (credited.state, credited.amount) == ("credited", Decimal("0.58"))
        assert (discounted.state, discounted.amount) == ("discounted", Decimal("0.29"))
        assert discounted.decided_at.replace(tzinfo=UTC) == NOON


def test_settling_twice_keeps_the_first_decision(database: Database) -> None:
    with database.session() as session:
        _, (submission_id,) = counted_work(session, "mei", ["c1"])
        settle_submission(session, submission_id, False, CARD, NOON)
    later = NOON + timedelta(hours=2)
    with database.session() as session:
        assert settle_submission(session, submission_id, False, CARD, later) == "discounted"
        assert settle_submission(session, submission_id, True, CARD, later) == "discounted"
    with database.session() as session:
        entry = session.scalar(select(LedgerEntry))
        # not halved a second time, not re-dated
        assert entry.amount == Decimal("0.29")
        assert entry.decided_at.replace(tzinfo=UTC) == NOON


def test_settling_a_submission_that_earned_nothing_returns_none(database: Database) -> None:
    with database.session() as session:
        user_id = add_user(session, "mei")
        add_clip(session, "c1")
        late = add_submission(session, "c1", user_id)
        assert settle_submission(session, late, True, CARD, NOON) is None
        assert session.scalar(select(func.count(LedgerEntry.id))) == 0


def test_earnings_split_today_pending_credited_and_discounted(database: Database) -> None:
    with database.session() as session:
        user_id, subs = counted_work(session, "mei", ["c1", "c2", "c3", "c4"])
        other_id, _ = counted_work(session, "jun", ["c1"])
        # c1 was accrued yesterday
        session.execute(
            LedgerEntry.__table__.update()
            .where(LedgerEntry.submission_id == subs[0])
            .values(created_at=NOON - timedelta(days=1))
        )
        settle_submission(session, subs[0], True, CARD, NOON)
        settle_submission(session, subs[1], False, CARD, NOON)
    with database.session() as session:
        earnings = earnings_for(session, user_id, NOON)
    assert earnings == Earnings(
        currency="CNY",
        today=Decimal("1.45"),  # 0.29 + 0.58 + 0.58, not yesterday's 0.58
        pending=Decimal("1.16"),
        credited=Decimal("0.58"),
        discounted=Decimal("0.29"),
    )
    assert earnings.settled == Decimal("0.87")
    for amount in (earnings.today, earnings.pending, earnings.credited, earnings.discounted):
        assert type(amount) is Decimal
    with database.session() as session:
        assert earnings_for(session, other_id, NOON).pending == Decimal("0.58")


def test_today_starts_at_utc_midnight(database: Database) -> None:
    just_before_midnight = datetime(2025, 3, 14, 23, 59, 59, tzinfo=UTC)
    with database.session() as session:
        user_id, _ = counted_work(session, "mei", ["c1"])
        session.execute(LedgerEntry.__table__.update().values(created_at=just_before_midnight))
    next_day = datetime(2025, 3, 15, 0, 0, 1, tzinfo=UTC)
    with database.session() as session:
        assert earnings_for(session, user_id, just_before_midnight).today == Decimal("0.58")
        assert earnings_for(session, user_id, next_day).today == Decimal("0.00")
        assert earnings_for(session, user_id, next_day).pending == Decimal("0.58")


def test_today_is_the_persons_own_day(database: Database) -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    # 23:30 on the 14th in Shanghai, 15:30 UTC; "now" is 01:00 on the 15th there, 17:00 UTC.
    late_evening = datetime(2025, 3, 14, 15, 30, tzinfo=UTC)
    after_midnight = datetime(2025, 3, 14, 17, 0, tzinfo=UTC)
    with database.session() as session:
        user_id, _ = counted_work(session, "lam", ["c1"])
        session.execute(LedgerEntry.__table__.update().values(created_at=late_evening))
    with database.session() as session:
        assert earnings_for(session, user_id, after_midnight).today == Decimal("0.58")
        in_shanghai = earnings_for(session, user_id, after_midnight, time_zone=shanghai)
    assert in_shanghai.today == Decimal("0.00")
    assert in_shanghai.pending == Decimal("0.58")


def test_a_person_without_work_has_zero_earnings(database: Database) -> None:
    with database.session() as session:
        user_id = add_user(session, "new")
        earnings = earnings_for(session, user_id, NOON)
    assert earnings == Earnings("CNY", *(Decimal("0.00"),) * 4)


def test_earnings_of_an_unknown_person_are_refused(database: Database) -> None:
    with database.session() as session, pytest.raises(NotFound, match="no person with id 999"):
        earnings_for(session, 999, NOON)


def test_settlement_report_owes_credited_plus_discounted_per_person(database: Database) -> None:
    with database.session() as session:
        mei, mei_subs = counted_work(session, "mei", ["c1", "c2", "c3"])
        jun, jun_subs = counted_work(session, "jun", ["c1", "c2"])
        counted_work(session, "pending-only", ["c1"])
        for submission_id in mei_subs[:2]:
            settle_submission(session, submission_id, True, CARD, NOON)
        settle_submission(session, jun_subs[0], False, CARD, NOON)
        settle_submission(session, jun_subs[1], True, CARD, NOON + timedelta(days=1))
    with database.session() as session:
        report = settlement_report(session)
        since = settlement_report(session, since=NOON + timedelta(hours=1))
    assert [(line.name, line.entries, line.owed, line.pending) for line in report] == [
        ("jun", 2, Decimal("0.87"), Decimal("0.00")),
        ("mei", 2, Decimal("1.16"), Decimal("0.58")),
    ]
    assert report[0].credited == Decimal("0.58") and report[0].discounted == Decimal("0.29")
    assert report[1].user_id == mei and report[0].user_id == jun
    assert all(line.currency == "CNY" and type(line.owed) is Decimal for line in report)
    assert [(line.name, line.owed) for line in since] == [("jun", Decimal("0.58"))]


def test_many_cents_add_up_exactly(database: Database) -> None:
    # 300 entries of 0.01 + 0.02 summed in the database must be exactly 4.50, not 4.4999...
    with database.session() as session:
        user_id = add_user(session, "mei")
        for number in range(300):
            clip_id = add_clip(session, f"c{number}", price="0.01")
            submission_id = add_submission(session, clip_id, user_id)
            amount = Decimal("0.01") if number % 2 else Decimal("0.02")
            accrue(session, submission_id, user_id, clip_id, amount, "CNY", now=NOON)
    with database.session() as session:
        assert earnings_for(session, user_id, NOON).pending == Decimal("4.50")


def test_an_entry_already_loaded_in_the_session_shows_the_decision(database: Database) -> None:
    # review code may hold the ORM row before settling it; it must not keep a stale "pending"
    with database.session() as session:
        _, (submission_id,) = counted_work(session, "mei", ["c1"])
        entry = session.scalar(
            select(LedgerEntry).where(LedgerEntry.submission_id == submission_id)
        )
        settle_submission(session, submission_id, False, CARD, NOON)
        assert (entry.state, entry.amount) == ("discounted", Decimal("0.29"))


def test_a_second_reviewer_settling_at_the_same_time_waits_and_sees_the_first_decision(
    database: Database,
) -> None:
    with database.session() as session:
        _, (submission_id,) = counted_work(session, "mei", ["c1"])
    outcome: dict[str, object] = {}

    def second_reviewer() -> None:
        try:
            with database.session() as session:
                outcome["state"] = settle_submission(session, submission_id, False, CARD, NOON)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            outcome["error"] = error

    with database.session() as first:
        assert settle_submission(first, submission_id, True, CARD, NOON) == "credited"
        racer = threading.Thread(target=second_reviewer)
        racer.start()
        time.sleep(0.5)  # the second reviewer is now waiting for the first one's transaction
    racer.join(timeout=60)
    assert outcome == {"state": "credited"}
    with database.session() as session:
        entries = session.scalars(select(LedgerEntry)).all()
    assert [(entry.state, entry.amount) for entry in entries] == [("credited", Decimal("0.58"))]


def test_concurrent_accruals_of_one_submission_keep_one_entry(database: Database) -> None:
    with database.session() as session:
        user_id, (submission_id,) = counted_work(session, "mei", ["c1"])
        session.execute(LedgerEntry.__table__.delete())
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            with database.session() as session:
                accrue(session, submission_id, user_id, "c1", Decimal("0.58"), "CNY", now=NOON)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with database.session() as session:
        assert session.scalar(select(func.count(LedgerEntry.id))) == 1
