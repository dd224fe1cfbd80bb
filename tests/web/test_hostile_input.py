"""No request, however malformed, makes the server fail: every operation in the OpenAPI schema
fuzzed with schemathesis under each role's token, on both databases, and hand-made bodies
that once crashed it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from app.web.app import create_app
from crowdscribe.settings import Settings
from crowdscribe.storage.db import Database
from transcribe.users import create_user

ROLES = (("transcriber",), ("reviewer",), ("coordinator",))
# Few per operation in the suite, run on both databases twice per CI run; bench/fuzz_api.py runs
# the same test with 100 (CROWDSCRIBE_FUZZ_EXAMPLES).
EXAMPLES_PER_OPERATION = int(os.environ.get("CROWDSCRIBE_FUZZ_EXAMPLES", "8"))


@pytest.fixture
def tokens(database: Database) -> list[str]:
    """One person per role (qualified in English), by token."""
    with database.session() as session:
        return [
            create_user(session, f"person-{roles[0]}", roles, ("en",), qualified=("en",))[1]
            for roles in ROLES
        ]


def test_no_generated_request_is_a_server_error(
    settings: Settings, database: Database, tokens: list[str]
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(settings, database))
    failures: list[str] = []
    for found in schema.get_all_operations():
        operation = found.ok()

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def call_as_everyone(case) -> None:
            for token in tokens:
                response = case.call(headers={"Authorization": f"Bearer {token}"})
                if response.status_code >= 500:
                    failures.append(f"{case.as_curl_command()} -> {response.status_code}")

        call_as_everyone()
    assert not failures, "\n".join(failures[:10])


@pytest.fixture
def hostile(settings: Settings, database: Database, tokens: list[str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings, database)) as client:
        client.headers["Authorization"] = f"Bearer {tokens[1]}"  # the reviewer
        yield client


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("GET", "/api/v1/disputes/554374154165849686016", None, 422),
        ("GET", "/api/v1/disputes/2147483648/audio", None, 422),
        ("GET", "/api/v1/disputes?min_age_s=1e999", None, 422),
        ("GET", "/api/v1/disputes?min_age_s=9.09e307", None, 422),
        ("GET", "/api/v1/disputes?language=%00en", None, 400),
        ("POST", "/api/v1/disputes/1/resolve", b'{"final_text": "a\\u0000b"}', 400),
        ("POST", "/api/v1/disputes/1/resolve", b'{"final_text": "\\udb7b"}', 400),
        ("POST", "/api/v1/disputes/1/resolve", b'{"\\udb7b": 1, "unusable": true}', 400),
        ("POST", "/api/v1/disputes/1/resolve", b'{"accept_submission_id": 1e308}', 422),
        ("POST", "/api/v1/disputes/1/resolve", b'{"accept_submission_id": 1e999}', 422),
        ("POST", "/api/v1/disputes/1/resolve", b'{"final_text": "\xff\xfe"}', 400),
        ("POST", "/api/v1/conventions/check", b'{"text": NaN, "language": "en"}', 422),
    ],
)
def test_hand_made_bad_input_is_a_client_error(hostile, method, path, body, expected) -> None:
    response = hostile.request(
        method, path, content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == expected, response.text
    json.loads(response.text)  # the answer itself is valid JSON


def test_oversized_bodies_are_refused_before_they_are_read(hostile) -> None:
    text = "<" * 1_000_000
    response = hostile.post("/api/v1/conventions/check", json={"text": text, "language": "en"})
    assert response.status_code == 413
    assert len(response.content) < 200


def test_a_long_text_is_refused_with_a_short_answer(hostile) -> None:
    body = {"text": "<" * 5000, "language": "en"}
    response = hostile.post("/api/v1/conventions/check", json=body)
    assert response.status_code == 422
    assert len(response.content) < 1000


def test_problems_are_capped_but_counted(hostile) -> None:
    body = {"text": "< " * 500, "language": "en"}
    response = hostile.post("/api/v1/conventions/check", json=body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["problem_count"] == 500
    assert len(answer["problems"]) == 20
