"""The transcriber JSON API, as a client program would use it with a bearer token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.web.app import create_app
from app.web.routes import transcriber_api
from crowdscribe.clock import utc_now
from crowdscribe.storage.models import LedgerEntry, Submission
from tests.builders import add_clips, add_person
from transcribe.limits import LOOP_CHECK_CHARS
from transcribe.pricing import default_rate_card
from transcribe.publishing import publish_clips
from transcribe.users import create_user

ENDPOINTS = [
    ("post", "/api/v1/clips/next"),
    ("get", "/api/v1/clips/abc/audio"),
    ("post", "/api/v1/assignments/abc/submit"),
    ("post", "/api/v1/assignments/abc/skip"),
    ("post", "/api/v1/assignments/abc/renew"),
    ("get", "/api/v1/me"),
    ("post", "/api/v1/conventions/check"),
]


@pytest.fixture
def client(settings, sqlite_database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, sqlite_database)) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def two_clips(spoken_clips, publish) -> list[str]:
    clip_ids = spoken_clips(["the cat sat on the mat", "a dog ran in the park"])
    assert publish(overlap=2) == 2
    return clip_ids


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_refuses_a_missing_or_wrong_token(client, method, path):
    missing = client.request(method, path)
    wrong = client.request(method, path, headers=bearer("not-a-token"))
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert "abc" not in response.text


def test_claim_gives_price_and_audio_which_streams_as_flac(client, sqlite_database, two_clips):
    _, token = add_person(sqlite_database, "ana")
    response = client.post("/api/v1/clips/next", headers=bearer(token))
    assert response.status_code == 200
    claim = response.json()
    assert claim["clip_id"] in two_clips
    assert claim["currency"] == "CNY" and float(claim["price"]) > 0
    assert isinstance(claim["price"], str)
    audio = client.get(claim["audio_url"], headers=bearer(token))
    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/flac"
    assert audio.content[:4] == b"fLaC"
    part = client.get(claim["audio_url"], headers={**bearer(token), "Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100


def test_audio_of_a_clip_not_held_is_refused_without_saying_whether_it_exists(
    client, sqlite_database, two_clips
):
    _, ana = add_person(sqlite_database, "ana")
    _, ben = add_person(sqlite_database, "ben")
    held = client.post("/api/v1/clips/next", headers=bearer(ana)).json()["clip_id"]
    not_held = client.get(f"/api/v1/clips/{held}/audio", headers=bearer(ben))
    no_such = client.get("/api/v1/clips/0000000000000000/audio", headers=bearer(ben))
    assert not_held.status_code == no_such.status_code == 404
    assert not_held.json() == no_such.json()
    assert held not in not_held.text


def test_an_unqualified_person_gets_no_clip(client, sqlite_database, two_clips):
    _, token = add_person(sqlite_database, "new", qualified=())
    response = client.post("/api/v1/clips/next", headers=bearer(token))
    assert response.status_code == 403
    assert "exam" in response.json()["detail"].lower()


def test_submitting_twice_with_one_request_id_stores_one_submission(
    client, two_clips, sqlite_database
):
    _, token = add_person(sqlite_database, "ana")
    claim = client.post("/api/v1/clips/next", headers=bearer(token)).json()
    url = f"/api/v1/assignments/{claim['assignment_id']}/submit"
    body = {"text": "the cat sat on the mat", "request_id": "req-0001-abcd"}
    first = client.post(url, json=body, headers=bearer(token))
    again = client.post(url, json=body, headers=bearer(token))
    assert first.status_code == again.status_code == 201
    assert first.json()["duplicate"] is False and again.json()["duplicate"] is True
    assert first.json()["submission_id"] == again.json()["submission_id"]
    with sqlite_database.session() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 1
        entry = session.scalar(select(LedgerEntry))
        assert entry.amount == Decimal(claim["price"])


def test_convention_problems_are_422_with_each_position(client, sqlite_database, two_clips):
    _, token = add_person(sqlite_database, "ana")
    claim = client.post("/api/v1/clips/next", headers=bearer(token)).json()
    text = "the cat [nosie] sat"
    response = client.post(
        f"/api/v1/assignments/{claim['assignment_id']}/submit",
        json={"text": text, "request_id": "req-0002-abcd"},
        headers=bearer(token),
    )
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert problems and response.json()["detail"]
    assert text[problems[0]["start"] : problems[0]["end"]] == "[nosie]"


def test_conventions_check_lists_problems_without_submitting(client, sqlite_database):
    _, token = add_person(sqlite_database, "ana")
    good = client.post(
        "/api/v1/conventions/check",
        json={"text": "um the cat [laugh] sat", "language": "en"},
        headers=bearer(token),
    )
    bad = client.post(
        "/api/v1/conventions/check",
        json={"text": "the ((cat sat", "language": "en"},
        headers=bearer(token),
    )
    assert good.json() == {"ok": True, "problems": [], "problem_count": 0}
    assert bad.json()["ok"] is False and bad.json()["problems"][0]["start"] == 4


def test_a_late_submission_is_409_and_its_text_is_kept(
    settings, sqlite_database, spoken_clips, publish, monkeypatch
):
    settings.lease_s = 1.0
    clock = [utc_now()]
    monkeypatch.setattr(transcriber_api, "utc_now", lambda: clock[0])
    spoken_clips(["only one clip here"])
    publish(overlap=1)
    _, slow = add_person(sqlite_database, "slow")
    _, quick = add_person(sqlite_database, "quick")
    with TestClient(create_app(settings, sqlite_database)) as client:
        late_claim = client.post("/api/v1/clips/next", headers=bearer(slow)).json()
        clock[0] += timedelta(seconds=1.2)  # the lease has run out
        retaken = client.post("/api/v1/clips/next", headers=bearer(quick))
        assert retaken.status_code == 200
        response = client.post(
            f"/api/v1/assignments/{late_claim['assignment_id']}/submit",
            json={"text": "only one clip here", "request_id": "req-late-0001"},
            headers=bearer(slow),
        )
    assert response.status_code == 409
    assert "kept" in response.json()["detail"]
    with sqlite_database.session() as session:
        stored = session.scalar(select(Submission))
        assert (stored.text, stored.status) == ("only one clip here", "late")


def test_no_work_is_204_with_the_reason_in_a_header(client, sqlite_database):
    _, token = add_person(sqlite_database, "ana")
    response = client.post("/api/v1/clips/next", headers=bearer(token), json={"language": "en"})
    assert response.status_code == 204
    assert response.content == b""
    assert "No clips in en" in response.headers["x-crowdscribe-reason"]


def test_skip_and_renew_act_only_on_ones_own_assignment(client, sqlite_database, two_clips):
    _, ana = add_person(sqlite_database, "ana")
    _, ben = add_person(sqlite_database, "ben")
    claim = client.post("/api/v1/clips/next", headers=bearer(ana)).json()
    base = f"/api/v1/assignments/{claim['assignment_id']}"
    assert client.post(f"{base}/renew", headers=bearer(ben)).status_code == 404
    renewed = client.post(f"{base}/renew", headers=bearer(ana))
    assert renewed.status_code == 200
    assert renewed.json()["lease_expires_at"] >= claim["lease_expires_at"]
    foreign = client.post(f"{base}/skip", json={"reason": "bad_audio"}, headers=bearer(ben))
    assert foreign.status_code == 404 and claim["clip_id"] not in foreign.text
    unknown = client.post(f"{base}/skip", json={"reason": "nope"}, headers=bearer(ana))
    assert unknown.status_code == 422
    skipped = client.post(f"{base}/skip", json={"reason": "bad_audio"}, headers=bearer(ana))
    assert skipped.status_code == 200
    audio = client.get(f"/api/v1/clips/{claim['clip_id']}/audio", headers=bearer(ana))
    assert audio.status_code == 404


def test_me_shows_roles_languages_exams_and_earnings(client, sqlite_database, two_clips):
    _, token = add_person(sqlite_database, "ana", languages=("en", "yue"), qualified=("en",))
    claim = client.post("/api/v1/clips/next", headers=bearer(token)).json()
    client.post(
        f"/api/v1/assignments/{claim['assignment_id']}/submit",
        json={"text": "the cat sat on the mat", "request_id": "req-me-00001"},
        headers=bearer(token),
    )
    me = client.get("/api/v1/me", headers=bearer(token)).json()
    assert me["name"] == "ana" and me["roles"] == ["transcriber"]
    assert me["qualified_languages"] == ["en"]
    assert {exam["language"]: exam["state"] for exam in me["exams"]} == {
        "en": "qualified",
        "yue": "not_taken",
    }
    assert me["earnings"]["pending"] == me["earnings"]["today"] == claim["price"]
    assert me["earnings"]["currency"] == "CNY"
    assert (me["earnings"]["paid"], me["earnings"]["unpaid"]) == ("0.00", "0.00")


def test_the_openapi_schema_describes_the_api(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/clips/next",
        "/api/v1/clips/{clip_id}/audio",
        "/api/v1/assignments/{assignment_id}/submit",
        "/api/v1/me",
    ):
        assert path in paths
    assert "ClaimOut" in schema["components"]["schemas"]
    assert "/login" not in paths


def test_only_transcribers_may_claim_paid_work(client, sqlite_database) -> None:
    for roles in (("reviewer",), ("coordinator",)):
        _, token = add_person(sqlite_database, f"only-{roles[0]}", roles=roles, languages=("en",))
        claim = client.post("/api/v1/clips/next", headers={"Authorization": f"Bearer {token}"})
        assert claim.status_code == 403


def test_a_long_transcript_is_checked_off_the_loop_with_the_first_problems_and_their_count(
    settings, database
):
    with database.session() as session:
        add_clips(session, 2, duration_s=50.0)
        publish_clips(session, project=None, overlap=1, card=default_rate_card(), now=utc_now())
        _, token = create_user(session, "ana", ("transcriber",), ("en",), qualified=("en",))
    long_wrong = "we went < " * 100
    long_right = "we went home " * 100
    assert min(len(long_wrong), len(long_right)) > LOOP_CHECK_CHARS
    with TestClient(create_app(settings, database)) as client:
        claims = [client.post("/api/v1/clips/next", headers=bearer(token)).json() for _ in range(2)]
        refused = client.post(
            f"/api/v1/assignments/{claims[0]['assignment_id']}/submit",
            json={"text": long_wrong, "request_id": "req-long-0001"},
            headers=bearer(token),
        )
        stored = client.post(
            f"/api/v1/assignments/{claims[1]['assignment_id']}/submit",
            json={"text": long_right, "request_id": "req-long-0002"},
            headers=bearer(token),
        )
    assert refused.status_code == 422
    assert refused.json()["problem_count"] == 100
    assert [p["start"] for p in refused.json()["problems"]] == [8 + 10 * n for n in range(20)]
    assert "100" in refused.json()["detail"]
    assert stored.status_code == 201
