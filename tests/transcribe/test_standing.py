"""Leaderboards show only people who opted in; teams show members' work to their leader."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crowdscribe.errors import Conflict, Forbidden, NotFound
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Clip, Submission
from tests.builders import T0, add_clips, add_person, add_submitted
from transcribe.ledger import accrue
from transcribe.standing import (
    create_team,
    join_team,
    leaderboard,
    leave_team,
    period_start,
    set_leaderboard_choice,
    team_ranking,
    team_view,
)

NOW = T0 + timedelta(hours=1)


def _work(session, person, amounts: list[str], error: float, language: str = "yue") -> None:
    clip_ids = add_clips(session, len(amounts), language=language, prefix=f"{person.name}")
    for clip_id, amount in zip(clip_ids, amounts, strict=True):
        session.get(Clip, clip_id).price = Decimal(amount)
        submission_id = add_submitted(session, clip_id, person.id, "我哋", now=T0)
        session.get(Submission, submission_id).error_vs_final = error
        accrue(session, submission_id, person.id, clip_id, Decimal(amount), "CNY", T0)


def test_periods_start_on_monday_and_the_first_of_the_month() -> None:
    wednesday = datetime(2026, 12, 2, 19, 30, tzinfo=UTC)
    assert period_start("week", wednesday, UTC) == datetime(2026, 11, 30, tzinfo=UTC)
    assert period_start("month", wednesday, UTC) == datetime(2026, 12, 1, tzinfo=UTC)


def test_periods_start_at_midnight_where_the_reader_lives() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    # 17:00 UTC on Sunday 29 November is already Monday 30 November, 01:00, in Shanghai.
    sunday_evening_utc = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)
    assert period_start("week", sunday_evening_utc, shanghai) == datetime(
        2026, 11, 29, 16, 0, tzinfo=UTC
    )
    assert period_start("week", sunday_evening_utc, UTC) == datetime(2026, 11, 23, tzinfo=UTC)
    # 16:30 UTC on 30 November is 1 December in Shanghai: a new month there, not in London.
    assert period_start("month", datetime(2026, 11, 30, 16, 30, tzinfo=UTC), shanghai) == (
        datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    )
    # A week that spans the end of summer time starts at its own midnight (EDT, UTC-4).
    new_york = ZoneInfo("America/New_York")
    assert period_start("week", datetime(2026, 11, 1, 20, tzinfo=UTC), new_york) == datetime(
        2026, 10, 26, 4, 0, tzinfo=UTC
    )


def test_the_leaderboard_shows_only_people_who_opted_in(database: Database) -> None:
    with database.session() as session:
        ann, bob, cat = (
            add_person(session, n, languages=("yue",)).person for n in ("ann", "bob", "cat")
        )
        _work(session, ann, ["1.00", "1.00"], 0.1)
        _work(session, bob, ["3.00"], 0.0)
        _work(session, cat, ["1.50"], 0.2)
        set_leaderboard_choice(session, ann.id, show=True, display_name="小安")
        set_leaderboard_choice(session, cat.id, show=True, display_name=None)
        board = leaderboard(
            session, language="yue", period="week", now=NOW, viewer_id=bob.id, zone=UTC
        )
        other = leaderboard(session, language="cmn", period="month", now=NOW, zone=UTC)
    assert [(r.rank, r.totals.name, r.totals.earned) for r in board.rows] == [
        (1, "小安", Decimal("2.00")),
        (2, "cat", Decimal("1.50")),
    ]
    assert "bob" not in repr(board.to_dict()["rows"])
    # Bob did not opt in: only he sees where he would stand.
    assert board.viewer.rank == 1 and board.viewer.totals.name == "bob"
    assert board.rows[0].totals.accuracy == pytest.approx(0.9)
    assert other.rows == ()


def test_a_leader_invites_members_and_sees_their_work(database: Database) -> None:
    with database.session() as session:
        ann, bob, cat = (
            add_person(session, n, languages=("yue",)).person for n in ("ann", "bob", "cat")
        )
        _work(session, bob, ["2.00"], 0.05)
        team = create_team(session, ann.id, "粤语小队", NOW)
        with pytest.raises(NotFound):
            join_team(session, bob.id, "wrong-code", NOW)
        join_team(session, bob.id, team.invite_code, NOW)
        with pytest.raises(Conflict):
            join_team(session, bob.id, team.invite_code, NOW)
        leader = team_view(session, ann.id, period="week", now=NOW, zone=UTC)
        member = team_view(session, bob.id, period="week", now=NOW, zone=UTC)
        assert team_view(session, cat.id, period="week", now=NOW, zone=UTC) is None
        ranking = team_ranking(session, period="week", now=NOW, zone=UTC)
        with pytest.raises(Forbidden):
            leave_team(session, ann.id)
        leave_team(session, bob.id)
        after = team_view(session, ann.id, period="week", now=NOW, zone=UTC)
    assert leader.is_leader and leader.invite_code == team.invite_code
    assert [(m.name, m.earned, m.clips) for m in leader.members] == [
        ("ann", Decimal("0.00"), 0),
        ("bob", Decimal("2.00"), 1),
    ]
    assert member.members == () and member.invite_code is None and member.member_count == 2
    assert [(row.name, row.clips) for row in ranking] == [("粤语小队", 1)]
    assert "earned" not in ranking[0].to_dict()
    assert after.member_count == 1
