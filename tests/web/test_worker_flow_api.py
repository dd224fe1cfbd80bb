"""Over the JSON API: feedback on discounted work, an appeal upheld and credited, and the
leaderboard showing only people who opted in."""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy import select

from crowdscribe.storage.models import LedgerEntry, User
from tests import review_world as world
from tests.builders import add_person

FINAL = "我哋一齊去街市買餸"


def discounted_world(database, settings):
    """ann and cat agree on the final text; bob's differs and is paid at the reduced rate."""
    world.add_clip(database, settings, language="yue", speech="ngo dei")
    world.publish(database, overlap=2)
    ann, bob, cat = (add_person(database, n, languages=("yue",)) for n in ("ann", "bob", "cat"))
    world.transcribe(database, ann, FINAL, language="yue")
    world.transcribe(database, bob, "我哋去公園玩", language="yue")
    world.decide(database)
    world.transcribe(database, cat, FINAL, language="yue")
    world.decide(database)
    rita = add_person(database, "rita", languages=("yue",), roles=("reviewer",))
    return ann, bob, cat, rita


def http(server, member) -> httpx.Client:
    headers = {"Authorization": f"Bearer {member.token}"}
    return httpx.Client(base_url=server.url, headers=headers)


def test_an_appeal_is_filed_once_and_an_upheld_one_is_credited(database, settings, serve):
    _ann, bob, _cat, rita = discounted_world(database, settings)
    with serve(database) as server, http(server, bob) as bob_api, http(server, rita) as rev_api:
        [item] = bob_api.get("/api/v1/feedback").json()
        assert item["own_text"] == "我哋去公園玩" and item["final_text"] == FINAL
        assert "agreed" in item["reason"] and item["diff"][0]["type"] == "equal"
        note = {"submission_id": item["submission_id"], "note": "我聽到佢講公園"}
        assert bob_api.post("/api/v1/appeals", json=note).status_code == 201
        assert bob_api.post("/api/v1/appeals", json=note).status_code == 409
        assert bob_api.get("/api/v1/appeals").status_code == 403
        [case] = rev_api.get("/api/v1/appeals").json()
        decision = {"uphold": True, "comment": "錄音係講公園，你啱"}
        decided = rev_api.post(f"/api/v1/appeals/{case['id']}/decision", json=decision)
        assert decided.json()["state"] == "upheld"
        again = rev_api.post(f"/api/v1/appeals/{case['id']}/decision", json=decision)
        assert again.status_code == 409
        [after] = bob_api.get("/api/v1/feedback").json()
    assert after["appeal"]["comment"] == "錄音係講公園，你啱"
    with database.session() as session:
        entries = session.scalars(
            select(LedgerEntry).where(LedgerEntry.user_id == bob.person.id).order_by(LedgerEntry.id)
        ).all()
    assert [entry.state for entry in entries] == ["discounted", "credited"]
    assert entries[1].adjusts_entry_id == entries[0].id
    assert sum(Decimal(e.amount) for e in entries) == Decimal(after["full_price"])


def test_the_leaderboard_shows_only_opted_in_names(database, settings, serve):
    ann, bob, cat, _rita = discounted_world(database, settings)
    with serve(database) as server:
        with http(server, ann) as api:
            choice = {"show": True, "display_name": "安仔"}
            assert api.put("/api/v1/me/leaderboard", json=choice).status_code == 200
        with http(server, bob) as api:
            board = api.get("/api/v1/leaderboard", params={"period": "week", "language": "yue"})
            monthly = api.get("/api/v1/leaderboard", params={"period": "month", "language": "yue"})
            wrong = api.get("/api/v1/leaderboard", params={"period": "year", "language": "yue"})
    body = board.json()
    assert [row["name"] for row in body["rows"]] == ["安仔"]
    assert "cat" not in board.text and body["you"]["name"] == "bob"
    assert body["rows"][0]["accuracy"] == 1.0 and body["since"].endswith("+00:00")
    assert monthly.json()["rows"][0]["name"] == "安仔"
    assert wrong.status_code == 422


def test_offers_show_work_waiting_before_the_exam(database, settings, serve):
    world.add_clip(database, settings, language="yue")
    world.publish(database, overlap=2)
    newcomer = add_person(database, "new", languages=())
    with database.session() as session:
        session.get(User, newcomer.person.id).languages = "yue"
    with serve(database) as server, http(server, newcomer) as api:
        [offer] = api.get("/api/v1/offers").json()
    assert offer["language"] == "yue" and offer["open_clips"] == 1
    assert offer["qualified"] is False and offer["exam_open"] is False
    assert offer["next_price"] is None and Decimal(offer["min_price"]) > 0
