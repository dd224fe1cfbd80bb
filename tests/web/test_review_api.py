"""The reviewer JSON API, over HTTP against the running app."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from crowdscribe.storage.models import Dispute
from tests import review_world as world
from tests.builders import add_person

TEXTS = (
    "so we went down to the the river and um we caught three fish [laugh]",
    "we were going to go to the river but it rained all day so we stayed in",
    "the weather was nice [noise]",
)


@pytest.fixture
def dispute_id(live_server) -> int:
    database, settings = live_server.database, live_server.settings
    world.add_clip(database, settings, language="en", project="river")
    world.publish(database)
    people = [add_person(database, name) for name in ("ann", "bob", "cat")]
    world.transcribe(database, people[0], TEXTS[0])
    world.transcribe(database, people[1], TEXTS[1])
    world.decide(database)
    world.transcribe(database, people[2], TEXTS[2])
    world.decide(database)
    with database.session() as session:
        return session.scalar(select(Dispute.id))


def client(live_server, member) -> httpx.Client:
    return httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {member.token}"}
    )


@pytest.fixture
def reviewer(live_server):
    return add_person(live_server.database, "rita", roles=("reviewer",))


def test_reviewer_lists_and_opens_disputes(live_server, dispute_id, reviewer) -> None:
    with client(live_server, reviewer) as http:
        listed = http.get("/api/v1/disputes", params={"language": "en"}).json()
        assert [row["id"] for row in listed] == [dispute_id]
        assert http.get("/api/v1/disputes", params={"project": "lake"}).json() == []
        assert http.get("/api/v1/disputes", params={"min_age_s": 3600}).json() == []
        detail = http.get(f"/api/v1/disputes/{dispute_id}").json()
        audio = http.get(detail["audio_url"])
    assert [t["text"] for t in detail["transcripts"]] == list(TEXTS)
    assert detail["alignment"]["columns"][0]["tokens"][0] == "so"
    assert audio.status_code == 200 and audio.content[:4] == b"fLaC"


def test_resolve_refuses_convention_errors_then_accepts_once(
    live_server, dispute_id, reviewer
) -> None:
    with client(live_server, reviewer) as http:
        bad = http.post(
            f"/api/v1/disputes/{dispute_id}/resolve", json={"final_text": "we went [lauhg] home"}
        )
        assert bad.status_code == 422
        assert bad.json()["problems"][0]["start"] == 8
        first = http.post(f"/api/v1/disputes/{dispute_id}/resolve", json={"final_text": TEXTS[0]})
        assert first.status_code == 200
        assert first.json()["resolution"] == "edited"
        assert [row["accepted"] for row in first.json()["scored"]] == [True, False, False]
        again = http.post(
            f"/api/v1/disputes/{dispute_id}/resolve", json={"unusable": True, "reason": "other"}
        )
        assert again.status_code == 409
        assert "already resolved" in again.json()["detail"]
        assert http.get("/api/v1/disputes").json() == []


def test_unusable_needs_a_known_reason(live_server, dispute_id, reviewer) -> None:
    with client(live_server, reviewer) as http:
        url = f"/api/v1/disputes/{dispute_id}/resolve"
        assert http.post(url, json={"unusable": True, "reason": "boring"}).status_code == 422
        done = http.post(url, json={"unusable": True, "reason": "crosstalk"})
    assert done.status_code == 200
    assert world.clip_row(live_server.database, done.json()["clip_id"]).status == "unusable"


def test_non_reviewers_are_refused(live_server, dispute_id) -> None:
    transcriber = add_person(live_server.database, "tom")
    with client(live_server, transcriber) as http:
        assert http.get("/api/v1/disputes").status_code == 403
        assert http.get(f"/api/v1/disputes/{dispute_id}/audio").status_code == 403
        refused = http.post(f"/api/v1/disputes/{dispute_id}/resolve", json={"final_text": TEXTS[0]})
    assert refused.status_code == 403
    with httpx.Client(base_url=live_server.url) as anonymous:
        assert anonymous.get("/api/v1/disputes").status_code == 401
