"""Logging in and out of the pages: token or password, signed cookie, CSRF on every form."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.builders import add_person


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def log_in(client: TestClient, **fields: str):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"csrf_token": token, **fields}, follow_redirects=False)


def test_a_page_without_login_redirects_to_the_login_page(client):
    response = client.get("/earnings", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/earnings"


def test_token_login_sets_an_httponly_lax_session_and_opens_home(client, sqlite_database):
    _, token = add_person(sqlite_database, "ana")
    response = log_in(client, token=token)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    home = client.get("/")
    assert home.status_code == 200
    assert "Hello, ana" in home.text


def test_password_login_goes_back_to_the_page_asked_for(client, sqlite_database):
    add_person(sqlite_database, "ben", password="correct horse")
    response = log_in(client, name="ben", password="correct horse", next="/earnings")
    assert response.headers["location"] == "/earnings"
    assert client.get("/earnings").status_code == 200


def test_wrong_password_and_unknown_name_get_the_same_vague_refusal(client, sqlite_database):
    add_person(sqlite_database, "cai", password="right")
    wrong = log_in(client, name="cai", password="wrong")
    unknown = log_in(client, name="nobody", password="right")
    assert wrong.status_code == unknown.status_code == 401
    assert "did not match" in wrong.text and "did not match" in unknown.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_never_redirects_off_site(client, sqlite_database):
    _, token = add_person(sqlite_database, "dee")
    response = log_in(client, token=token, next="//evil.example/")
    assert response.headers["location"] == "/"


def test_a_form_post_without_the_csrf_token_is_refused(client, sqlite_database):
    _, token = add_person(sqlite_database, "eve")
    forged = client.post("/login", data={"token": token}, follow_redirects=False)
    assert forged.status_code == 403
    log_in(client, token=token)
    no_token = client.post("/work/next", data={"language": "en"}, follow_redirects=False)
    assert no_token.status_code == 403
    assert "did not come from this site" in no_token.text


def test_logout_ends_the_session(client, sqlite_database):
    _, token = add_person(sqlite_database, "fay")
    log_in(client, token=token)
    home = client.get("/")
    response = client.post(
        "/logout", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False
    )
    assert response.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_transcriber_cannot_open_the_coordinator_page(client, sqlite_database):
    _, token = add_person(sqlite_database, "gus")
    log_in(client, token=token)
    response = client.get("/coordinator")
    assert response.status_code == 403
    assert "coordinator role" in response.text


def test_a_cookie_session_writing_to_the_api_needs_the_csrf_header(client, sqlite_database):
    _, token = add_person(sqlite_database, "hal")
    log_in(client, token=token)
    body = {"text": "hello", "language": "en"}
    assert client.post("/api/v1/conventions/check", json=body).status_code == 403
    header = {"X-CSRF-Token": csrf_of(client.get("/").text)}
    assert client.post("/api/v1/conventions/check", json=body, headers=header).status_code == 200
