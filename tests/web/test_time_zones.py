"""Times carry their zone: offsets in the JSON API, the person's own clock on the pages."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.web.local_time import as_utc
from crowdscribe.storage.models import Assignment, Submission, User
from tests.builders import add_person
from tests.web.test_pages import csrf_of, logged_in, take_next

ZH = {"Accept-Language": "zh-CN"}


def _lease_end(database) -> datetime:
    with database.session() as session:
        return as_utc(session.scalar(select(Assignment.lease_expires_at)))


def test_api_timestamps_are_iso_8601_with_an_offset(client, sqlite_database, spoken_clips, publish):
    spoken_clips(["the cat sat on the mat"])
    publish(overlap=2)
    _, token = add_person(sqlite_database, "kim")
    auth = {"Authorization": f"Bearer {token}"}
    claim = client.post("/api/v1/clips/next", headers=auth).json()
    renewed = client.post(f"/api/v1/assignments/{claim['assignment_id']}/renew", headers=auth)
    for stamp in (claim["lease_expires_at"], renewed.json()["lease_expires_at"]):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", stamp), stamp
        assert datetime.fromisoformat(stamp).utcoffset() == timedelta(0)


def test_the_work_page_shows_the_lease_end_on_the_projects_clock(
    client, spoken_clips, publish, sqlite_database
):
    spoken_clips(["the cat sat on the mat"])
    publish(overlap=2)
    _, token = add_person(sqlite_database, "ming")
    page = take_next(client, logged_in(client, token))
    shanghai = _lease_end(sqlite_database).astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"Clip reserved for you until {shanghai:%H:%M} China Time." in page.text
    assert 'data-lease-expires="' in page.text and "+00:00" in page.text


def test_a_saved_zone_moves_every_time_and_today_to_the_persons_clock(
    client, spoken_clips, publish, sqlite_database
):
    spoken_clips(["the cat sat on the mat"])
    publish(overlap=2)
    person, token = add_person(sqlite_database, "ola")
    csrf = logged_in(client, token)
    saved = client.post(
        "/preferences/time-zone",
        json={"time_zone": "America/Sao_Paulo"},
        headers={"X-CSRF-Token": csrf},
    )
    assert saved.status_code == 204
    with sqlite_database.session() as session:
        assert session.get(User, person.id).time_zone == "America/Sao_Paulo"
    page = take_next(client, csrf)
    sao_paulo = _lease_end(sqlite_database).astimezone(ZoneInfo("America/Sao_Paulo"))
    assert f"until {sao_paulo:%H:%M} Brasilia Time." in page.text
    assert '<meta name="time-zone" content="America/Sao_Paulo" data-saved="yes">' in page.text
    assignment_id = str(page.url).rsplit("/", 1)[1]
    client.post(
        f"/work/{assignment_id}/submit",
        data={"csrf_token": csrf, "text": "the cat sat on the mat", "request_id": "r" * 16},
    )
    earnings = client.get("/earnings", headers=ZH).text
    with sqlite_database.session() as session:
        created = as_utc(session.scalar(select(Submission.created_at)))
    local = created.astimezone(ZoneInfo("America/Sao_Paulo"))
    assert f"{local.month}月{local.day}日 {local:%H:%M}" in earnings
    assert "以下时间均为巴西利亚时间" in earnings


def test_a_zone_the_server_does_not_know_is_refused(client, sqlite_database):
    _, token = add_person(sqlite_database, "pia")
    csrf = logged_in(client, token)
    refused = client.post(
        "/preferences/time-zone",
        json={"time_zone": "Mars/Olympus_Mons"},
        headers={"X-CSRF-Token": csrf, **ZH},
    )
    assert refused.status_code == 422
    assert "未知时区" in refused.text
    assert '<meta name="time-zone" content="Asia/Shanghai" data-saved="no">' in client.get("/").text


def test_the_projects_default_zone_is_a_setting(
    settings, client, spoken_clips, publish, sqlite_database
):
    settings.default_time_zone = "UTC"
    spoken_clips(["the cat sat on the mat"])
    publish(overlap=2)
    _, token = add_person(sqlite_database, "uma")
    page = take_next(client, logged_in(client, token))
    assert f"until {_lease_end(sqlite_database):%H:%M} UTC." in page.text
    assert csrf_of(page.text)
