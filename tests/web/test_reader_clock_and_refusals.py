"""The reader's week starts at their midnight, and a request that fails validation is told why
in the reader's language, field names as sent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.web.routes import standing as standing_routes
from crowdscribe.storage.models import Clip, Submission, User
from tests.builders import add_clips, add_person, add_submitted
from tests.web.test_pages import csrf_of, logged_in
from transcribe.ledger import accrue

# Monday 30 November 2026, 02:00 UTC: 10:00 the same Monday in Shanghai.
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
# Sunday 23:30 in Shanghai (last week there), Monday 00:30 in Shanghai (this week there, but
# still Sunday in UTC), and Monday 01:00 UTC (this week everywhere).
WORKED_AT = (
    datetime(2026, 11, 29, 15, 30, tzinfo=UTC),
    datetime(2026, 11, 29, 16, 30, tzinfo=UTC),
    datetime(2026, 11, 30, 1, 0, tzinfo=UTC),
)
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
HANT = {"Accept-Language": "zh-TW"}
EN = {"Accept-Language": "en-GB"}


def _worked_around_midnight(database, person) -> None:
    with database.session() as session:
        for index, moment in enumerate(WORKED_AT):
            [clip_id] = add_clips(session, 1, language="yue", prefix=f"edge-{index}")
            session.get(Clip, clip_id).price = Decimal("1.00")
            submission_id = add_submitted(session, clip_id, person.id, "我哋", now=moment)
            session.get(Submission, submission_id).created_at = moment
            accrue(session, submission_id, person.id, clip_id, Decimal("1.00"), "CNY", moment)


def _week(client, token: str) -> dict:
    answer = client.get(
        "/api/v1/leaderboard",
        params={"period": "week", "language": "yue"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200
    return answer.json()


def test_the_week_starts_at_midnight_on_the_readers_clock(client, sqlite_database, monkeypatch):
    monkeypatch.setattr(standing_routes, "utc_now", lambda: NOW)
    mei, mei_token = add_person(sqlite_database, "mei", languages=("yue",))
    _worked_around_midnight(sqlite_database, mei)
    # No saved zone: the project's default, Asia/Shanghai, whose week began Sunday 16:00 UTC.
    shanghai = _week(client, mei_token)
    assert shanghai["since"] == "2026-11-29T16:00:00+00:00"
    assert shanghai["you"]["clips"] == 2 and shanghai["you"]["earned"] == "2.00"
    with sqlite_database.session() as session:
        session.get(User, mei.id).time_zone = "Europe/London"
    london = _week(client, mei_token)
    assert london["since"] == "2026-11-30T00:00:00+00:00"
    assert london["you"]["clips"] == 1 and london["you"]["earned"] == "1.00"


def test_the_month_starts_at_midnight_on_the_readers_clock(client, sqlite_database, monkeypatch):
    # 1 December 00:30 in Shanghai, still 30 November in UTC.
    monkeypatch.setattr(
        standing_routes, "utc_now", lambda: datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
    )
    mei, mei_token = add_person(sqlite_database, "mei", languages=("yue",))
    _worked_around_midnight(sqlite_database, mei)
    month = client.get(
        "/api/v1/leaderboard",
        params={"period": "month", "language": "yue"},
        headers={"Authorization": f"Bearer {mei_token}"},
    ).json()
    assert month["since"] == "2026-11-30T16:00:00+00:00" and month["you"] is None


@pytest.mark.parametrize(
    ("headers", "missing", "too_long", "not_a_number"),
    [
        (ZH, "缺少必填项", "最多 32 个字符", "应为有效的整数"),
        (HANT, "缺少必填項", "最多 32 個字符", "應為有效的整數"),
        (EN, "Field required", "at most 32 characters", "valid integer"),
    ],
)
def test_api_validation_answers_follow_accept_language(
    client, headers, missing, too_long, not_a_number, sqlite_database
):
    _person, token = add_person(sqlite_database, "lin", languages=("yue",))
    auth = {"Authorization": f"Bearer {token}", **headers}
    board = client.get("/api/v1/leaderboard", params={"period": "week"}, headers=auth)
    named = client.put(
        "/api/v1/me/leaderboard", json={"show": True, "display_name": "字" * 40}, headers=auth
    )
    appeal = client.post(
        "/api/v1/appeals", json={"submission_id": "three", "note": "x"}, headers=auth
    )
    [no_language] = board.json()["detail"]
    [long_name] = named.json()["detail"]
    [not_number] = appeal.json()["detail"]
    assert no_language["loc"] == ["query", "language"] and no_language["type"] == "missing"
    assert missing in no_language["msg"]
    assert long_name["loc"] == ["body", "display_name"] and too_long in long_name["msg"]
    assert not_number["type"] == "int_parsing" and not_a_number in not_number["msg"]


def test_api_validation_answers_follow_the_saved_choice_without_accept_language(
    client, sqlite_database
):
    person, token = add_person(sqlite_database, "lin", languages=("yue",))
    with sqlite_database.session() as session:
        session.get(User, person.id).locale = "zh_Hant"
    answer = client.get(
        "/api/v1/leaderboard",
        params={"period": "year", "language": "yue"},
        headers={"Authorization": f"Bearer {token}"},
    )
    [problem] = answer.json()["detail"]
    assert problem["type"] == "string_pattern_mismatch" and problem["loc"] == ["query", "period"]
    assert "應匹配格式" in problem["msg"] and "^(week|month)$" in problem["msg"]


def test_a_form_page_that_fails_validation_says_why_in_the_persons_language(
    client, sqlite_database
):
    person, token = add_person(sqlite_database, "lin", languages=("yue",))
    csrf = logged_in(client, token)
    with sqlite_database.session() as session:
        session.get(User, person.id).locale = "zh_Hans"
    page = client.post(
        "/standing/choice",
        data={"csrf_token": csrf, "show": "on", "display_name": "名" * 5000},
        headers=EN,  # the saved choice wins on pages
    )
    assert page.status_code == 422
    assert "<code>display_name</code>：最多 2000 个字符" in page.text
    assert "Field required" not in page.text and "String should" not in page.text


def test_a_form_refused_before_anyone_is_known_follows_accept_language(client):
    csrf = csrf_of(client.get("/login").text)
    page = client.post(
        "/login", data={"csrf_token": csrf, "name": "林" * 80, "token": "x"}, headers=HANT
    )
    assert page.status_code == 422
    assert "<code>name</code>：最多 64 個字符" in page.text
    assert 'lang="zh-Hant"' in page.text
