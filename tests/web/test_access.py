"""Access that can be taken away: logout ends every session, a token change or deactivation
takes effect on the next request, sign-in is throttled, cookies can be Secure-only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.web.app import create_app
from crowdscribe.settings import Settings
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import User
from tests.builders import add_person
from tests.web.test_auth import csrf_of, log_in
from transcribe.access import NAME_LIMIT, WINDOW_S, throttle_for
from transcribe.users import token_digest


def test_logout_ends_the_session_on_every_browser(settings, sqlite_database):
    _, token = add_person(sqlite_database, "ana")
    app = create_app(settings, sqlite_database)
    with TestClient(app) as phone, TestClient(app) as laptop:
        log_in(phone, token=token)
        log_in(laptop, token=token)
        stolen_cookie = dict(phone.cookies)
        assert laptop.get("/", follow_redirects=False).status_code == 200
        phone.post("/logout", data={"csrf_token": csrf_of(phone.get("/").text)})
        assert laptop.get("/", follow_redirects=False).status_code == 303
        with TestClient(app, cookies=stolen_cookie) as replay:
            assert replay.get("/", follow_redirects=False).status_code == 303
        log_in(laptop, token=token)
        assert laptop.get("/", follow_redirects=False).status_code == 200


def test_a_replaced_token_is_refused_on_the_next_request(client, sqlite_database):
    person, token = add_person(sqlite_database, "ben")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with sqlite_database.session() as session:
        session.execute(
            update(User).where(User.id == person.id).values(token_digest=token_digest("new"))
        )
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer new"}).status_code == 200


def test_a_deactivated_person_is_refused_at_once(client, sqlite_database):
    person, token = add_person(sqlite_database, "cai")
    log_in(client, token=token)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with sqlite_database.session() as session:
        session.execute(update(User).where(User.id == person.id).values(active=False))
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/", follow_redirects=False).status_code == 303


def test_repeated_wrong_passwords_are_throttled_then_refused_with_retry_after(
    client, sqlite_database
):
    add_person(sqlite_database, "dee", password="right one")
    statuses = [log_in(client, name="dee", password="wrong").status_code for _ in range(7)]
    assert statuses[:NAME_LIMIT] == [401] * NAME_LIMIT
    assert statuses[NAME_LIMIT:] == [429, 429]
    refused = log_in(client, name="dee", password="right one")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= WINDOW_S
    assert "Too many failed sign-ins" in refused.text


def test_a_throttled_name_does_not_lock_out_other_names(client, sqlite_database):
    add_person(sqlite_database, "eve", password="pw-eve")
    add_person(sqlite_database, "fay", password="pw-fay")
    for _ in range(NAME_LIMIT):
        log_in(client, name="eve", password="wrong")
    assert log_in(client, name="fay", password="pw-fay").status_code == 303


def test_throttle_opens_when_the_oldest_failure_leaves_the_window() -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    failures = [now - timedelta(seconds=s) for s in (10, 20, 30, 40, WINDOW_S - 60)]
    throttle = throttle_for(failures, 5, now)
    assert throttle.refused and abs(throttle.retry_after_s - 60) < 1e-6
    assert not throttle_for(failures[:4], 5, now).refused
    assert not throttle_for(failures, 5, now + timedelta(seconds=61)).refused


def test_cookies_are_secure_only_when_asked(tmp_path, sqlite_database: Database):
    _, token = add_person(sqlite_database, "gus")
    settings = Settings(home=tmp_path / "home", secret_key="k", secure_cookies=True)
    with TestClient(create_app(settings, sqlite_database), base_url="https://testserver") as c:
        cookie = log_in(c, token=token).headers["set-cookie"].lower()
    assert "secure" in cookie
