"""Fifty clients hammering the JSON API at once: every slot filled once, by distinct people."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Assignment, Submission, WorkItem
from tests.builders import add_person

THREADS = 50
CLIPS = 12
OVERLAP = 3


def work_until_empty(
    url: str, token: str, barrier: threading.Barrier, database: Database
) -> list[dict]:
    """One client: claim, fetch the audio, submit, until the server says there is no work.
    Each 201 must already be committed: another connection sees the submission at once."""
    receipts = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        barrier.wait()
        while True:
            claim = client.post("/api/v1/clips/next")
            if claim.status_code == 204:
                assert claim.headers["x-crowdscribe-reason"]
                return receipts
            assert claim.status_code == 200, claim.text
            body = claim.json()
            audio = client.get(body["audio_url"])
            assert audio.status_code == 200 and audio.content[:4] == b"fLaC"
            submit = client.post(
                f"/api/v1/assignments/{body['assignment_id']}/submit",
                json={"text": "hello there", "request_id": uuid.uuid4().hex},
            )
            assert submit.status_code == 201, submit.text
            with database.session() as session:
                assert session.get(Submission, submit.json()["submission_id"]) is not None
            receipts.append({"clip_id": body["clip_id"], **submit.json()})


@pytest.mark.parametrize("workers", [0, 2], ids=["in-thread", "two-processes"])
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_fifty_clients_fill_every_slot_exactly_once(
    request, backend, workers, serve, spoken_clips, sqlite_database, publish
):
    database = request.getfixturevalue(f"{backend}_database")
    clip_ids = spoken_clips(
        [f"clip number {n} for the crowd" for n in range(CLIPS)], database=database
    )
    publish(overlap=OVERLAP, database=database)
    tokens = {}
    for n in range(THREADS):
        person, token = add_person(database, f"worker{n:02d}")
        tokens[person.id] = token
    barrier = threading.Barrier(THREADS)
    with serve(database, workers) as server, ThreadPoolExecutor(THREADS) as pool:
        futures = [
            pool.submit(work_until_empty, server.url, token, barrier, database)
            for token in tokens.values()
        ]
        receipts = [receipt for future in futures for receipt in future.result()]

    assert len(receipts) == CLIPS * OVERLAP
    assert all(r["status"] == "counted" and not r["duplicate"] for r in receipts)
    with database.session() as session:
        stored = session.execute(select(Submission.id, Submission.clip_id, Submission.user_id))
        rows = list(stored)
        assert {r["submission_id"] for r in receipts} == {row.id for row in rows}
        per_clip = Counter(row.clip_id for row in rows)
        assert per_clip == dict.fromkeys(clip_ids, OVERLAP)
        assert len({(row.clip_id, row.user_id) for row in rows}) == len(rows)
        assert (
            session.scalar(
                select(func.count()).select_from(WorkItem).where(WorkItem.state != "done")
            )
            == 0
        )
        # No slot was ever handed to two people: each work item has one submitted assignment.
        holders = session.execute(
            select(Assignment.work_item_id, func.count())
            .where(Assignment.state == "submitted")
            .group_by(Assignment.work_item_id)
        )
        assert all(count == 1 for _, count in holders)
