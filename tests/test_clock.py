"""One clock: every time the code reads or hands on is an aware UTC datetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from crowdscribe.clock import as_utc, utc_now
from review.disputes import DisputeSummary

HONG_KONG = timezone(timedelta(hours=8))


def test_naive_times_are_taken_as_utc() -> None:
    assert as_utc(datetime(2025, 3, 14, 12, 0)) == datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
    assert as_utc(datetime(2025, 3, 14, 12, 0)).tzinfo is UTC


def test_times_in_another_zone_are_converted_not_relabelled() -> None:
    moment = as_utc(datetime(2025, 3, 14, 20, 0, tzinfo=HONG_KONG))
    assert moment.tzinfo is UTC
    assert (moment.hour, moment.isoformat()) == (12, "2025-03-14T12:00:00+00:00")


def test_utc_now_reads_the_clock_or_makes_a_given_moment_utc() -> None:
    before = datetime.now(UTC)
    assert before <= utc_now() <= datetime.now(UTC)
    assert utc_now().tzinfo is UTC
    given = datetime(2025, 3, 14, 20, 0, tzinfo=HONG_KONG)
    assert utc_now(given).isoformat() == "2025-03-14T12:00:00+00:00"


def test_dispute_times_are_shown_in_utc_whatever_zone_the_database_returned() -> None:
    # PostgreSQL hands back timestamps in the connection's time zone; the API shows UTC.
    summary = DisputeSummary(
        id=1,
        clip_id="c1",
        kind="disagreement",
        state="open",
        language="en",
        speaker_group="adult",
        project="p",
        duration_s=3.0,
        agreement_error=0.4,
        transcripts=2,
        created_at=datetime(2025, 3, 14, 20, 0, tzinfo=HONG_KONG),
    )
    shown = summary.to_dict(now=datetime(2025, 3, 14, 13, 0, tzinfo=UTC))
    assert shown["created_at"] == "2025-03-14T12:00:00+00:00"
    assert shown["age_s"] == 3600
