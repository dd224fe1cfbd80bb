"""Connections that heal: after PostgreSQL drops every connection, ordinary requests still
succeed; while the database is gone, requests answer 503 with Retry-After, never 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from app.web.app import create_app
from crowdscribe.settings import Settings
from crowdscribe.storage.db import Database
from tests.conftest import POSTGRES_ADMIN_URL
from tests.web.test_auth import log_in
from transcribe.users import create_user

pytestmark = pytest.mark.postgres


def _admin(*statements: str, name: str) -> None:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
            {"name": name},
        )
        for statement in statements:
            connection.execute(text(statement))
    admin.dispose()


@pytest.fixture
def signed_in(settings: Settings, postgres_database: Database):
    with postgres_database.session() as session:
        _, token = create_user(session, "ana", ("transcriber",), ("en",), qualified=("en",))
    with TestClient(create_app(settings, postgres_database)) as client:
        log_in(client, token=token)
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def _ordinary_requests(client: TestClient) -> list[int]:
    statuses = []
    for _ in range(10):
        statuses.append(client.get("/api/v1/me").status_code)
        statuses.append(client.get("/", follow_redirects=False).status_code)
        statuses.append(client.get("/earnings", follow_redirects=False).status_code)
    return statuses


def test_requests_succeed_after_every_connection_was_terminated(
    signed_in: TestClient, postgres_database: Database
) -> None:
    assert set(_ordinary_requests(signed_in)) == {200}  # fill the pool
    _admin(name=make_url(postgres_database.url).database)
    assert set(_ordinary_requests(signed_in)) == {200}


def test_a_missing_database_answers_503_with_retry_after(
    signed_in: TestClient, postgres_database: Database
) -> None:
    name = make_url(postgres_database.url).database
    _admin(f'ALTER DATABASE "{name}" RENAME TO "{name}_away"', name=name)
    try:
        api = signed_in.get("/api/v1/me")
        page = signed_in.get("/earnings", follow_redirects=False)
    finally:
        _admin(f'ALTER DATABASE "{name}_away" RENAME TO "{name}"', name=f"{name}_away")
    assert api.status_code == page.status_code == 503
    assert api.headers["retry-after"] and page.headers["retry-after"]
    assert "try again" in api.json()["detail"]
