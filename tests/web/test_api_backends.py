"""Claims and submits answer alike on SQLite and on PostgreSQL, where the bearer token is checked
inside the claim's and the submit's own statements rather than before them."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from app.web.app import create_app
from crowdscribe.storage.models import Assignment, Submission, User
from tests.builders import add_person
from transcribe.users import token_digest

TEXTS = ["the cat sat on the mat", "a dog ran in the park"]
# Ids and times that differ from run to run, and so between the two databases.
_VARYING = re.compile(r"[0-9a-f]{32}|\d{4}-\d\d-\d\dT[0-9:.+Z-]+")


def _seen(response) -> tuple:
    headers = {
        name: _VARYING.sub("…", value)
        for name, value in response.headers.items()
        if name in ("www-authenticate", "x-crowdscribe-reason", "content-type")
    }
    return response.status_code, _VARYING.sub("…", response.text), headers


def _session(settings, database, spoken_clips, publish) -> list[tuple]:
    """What a client sees of a working session with refusals along the way."""
    spoken_clips(TEXTS, database=database)
    publish(overlap=2, database=database)
    ana, ana_token = add_person(database, "ana")
    _, ben_token = add_person(database, "ben")
    _, reviewer = add_person(database, "rev", roles=("reviewer",), qualified=("en",))
    _, newcomer = add_person(database, "new", qualified=())
    seen = []
    with TestClient(create_app(settings, database)) as client:

        def ask(path: str, token: str | None, **options) -> dict:
            headers = options.pop("headers", {})
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            response = client.post(path, headers=headers, **options)
            seen.append(_seen(response))
            return response.json() if response.status_code in (200, 201) else {}

        claim = "/api/v1/clips/next"
        ask(claim, None)
        ask(claim, "not-a-token")
        ask(claim, reviewer)
        ask(claim, reviewer, headers={"Accept-Language": "zh-CN"})
        ask(claim, newcomer)
        ask(claim, "not-a-token", json={"language": 5})
        ask(claim, ana_token, json={"language": 5})
        ask(claim, ana_token, json={"language": "xx"})
        ask(claim, "not-a-token", json={"language": "xx"})
        ask(claim, ana_token, content=b"{", headers={"Content-Type": "application/json"})
        held = ask(claim, ana_token, params={"language": "en"})["assignment_id"]
        submit = f"/api/v1/assignments/{held}/submit"
        text = {"text": TEXTS[0], "request_id": "req-0001-abcd"}
        ask(submit, None, json=text)
        ask(submit, "not-a-token", json=text)
        ask(submit, ben_token, json=text)
        ask("/api/v1/assignments/nothing-here/submit", ana_token, json=text)
        ask(submit, ana_token, json={"text": "the cat <sat", "request_id": "req-0002-abcd"})
        ask(submit, ana_token, json={"text": TEXTS[0]})
        ask(submit, ana_token, json=text, headers={"Accept-Language": "zh-CN"})
        ask(submit, ana_token, json=text)
        ask(submit, ana_token, json={**text, "text": TEXTS[1]})
        ask(claim, ana_token, json={"language": "en"}, headers={"Accept-Language": "zh-TW"})
        ask(claim, ana_token)
        with database.session() as session:
            session.execute(
                update(User).where(User.id == ana.id).values(token_digest=token_digest("new"))
            )
        ask(claim, ana_token)
        ask(submit, ana_token, json=text)
        ask(claim, "new")
        with database.session() as session:
            seen.append(session.scalar(select(func.count()).select_from(Assignment)))
            seen.append(session.scalar(select(func.count()).select_from(Submission)))
    return seen


def test_claims_and_submits_answer_alike_on_both_databases(
    settings, sqlite_database, postgres_database, spoken_clips, publish
):
    on_sqlite = _session(settings, sqlite_database, spoken_clips, publish)
    on_postgres = _session(settings, postgres_database, spoken_clips, publish)
    assert on_postgres == on_sqlite
    statuses = [answer[0] for answer in on_sqlite[:-2]]
    assert statuses == [
        *(401, 401, 403, 403, 403, 401, 422, 422, 401, 422, 200),
        *(401, 401, 404, 404, 422, 422, 201, 201, 409, 200, 204, 401, 401, 204),
    ]
    # The reviewer, though qualified, was leased nothing: ana's two clips are all the claims.
    assert on_sqlite[-2:] == [2, 1]
