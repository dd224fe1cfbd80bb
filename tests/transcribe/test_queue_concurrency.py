"""Fifty people claiming and submitting at once against one database, until the queue is empty."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict

import pytest
from sqlalchemy import select

from crowdscribe.clock import utc_now
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Assignment, Submission, WorkItem
from tests.builders import T0, add_clips, add_person
from tests.transcribe.queue_paths import queue_for
from transcribe.dispatch.holding import skip_assignment
from transcribe.dispatch.sequences import Claim, NoWork
from transcribe.pricing import default_rate_card
from transcribe.publishing import publish_clips

WORKERS = 50
CLIPS = 150
OVERLAP = 2
LEASE_S = 0.3


def _work(database: Database, person_id: int, seed: int, log: dict, errors: list) -> None:
    """Claim, sometimes dawdle past the lease or skip, submit; stop when nothing is left."""
    chance = random.Random(seed)
    queue = queue_for(database)
    try:
        while True:
            held = queue.claim(person_id, lease_s=LEASE_S)
            if isinstance(held, NoWork):
                if held.next_expected_at is None:
                    return
                time.sleep(0.02)
                continue
            log["claims"].append((person_id, held))
            roll = chance.random()
            if roll < 0.03:
                with database.session() as session:
                    skip_assignment(session, held.assignment_id, person_id, "other", T0)
                log["skips"].append(held.assignment_id)
                continue
            if roll < 0.08:
                time.sleep(LEASE_S * 1.5)  # typed slowly: the slot may have gone to someone else
            request_id = f"r-{held.assignment_id}"
            receipt = queue.submit(
                held.assignment_id, person_id, "hello world", request_id, utc_now()
            )
            log["receipts"].append((person_id, held, receipt))
    except Exception as error:  # noqa: BLE001 - reported by the test, with the thread's trace
        errors.append(error)


@pytest.fixture
def database(queue_database: Database) -> Database:
    return queue_database


def test_fifty_concurrent_claimers_fill_every_slot_exactly_once(database: Database) -> None:
    with database.session() as session:
        add_clips(session, CLIPS)
        people = [add_person(session, f"person{n:02d}").person for n in range(WORKERS)]
        publish_clips(session, project=None, overlap=OVERLAP, card=default_rate_card(), now=T0)
    log: dict[str, list] = defaultdict(list)
    errors: list[Exception] = []
    threads = [
        threading.Thread(target=_work, args=(database, person.id, n, log, errors))
        for n, person in enumerate(people)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors[:3]
    assert not any(thread.is_alive() for thread in threads)

    with database.session() as session:
        submissions = session.scalars(select(Submission)).all()
        items = session.scalars(select(WorkItem)).all()
        assignments = session.scalars(select(Assignment)).all()

    # Every clip ends with exactly its overlap of counted transcripts, from distinct people.
    counted = [row for row in submissions if row.status == "counted"]
    per_clip = defaultdict(list)
    for row in counted:
        per_clip[row.clip_id].append(row.user_id)
    assert len(per_clip) == CLIPS
    assert all(len(users) == OVERLAP == len(set(users)) for users in per_clip.values())
    assert all(item.state == "done" for item in items)

    # No lease was ever held by two: a slot names one holder, and each counted transcript
    # came from the assignment that holds its slot.
    holder = {item.assignment_id for item in items}
    assert {row.assignment_id for row in counted} == holder
    assert len(holder) == len(items) == CLIPS * OVERLAP
    claimed_ids = [held.assignment_id for _, held in log["claims"]]
    assert len(claimed_ids) == len(set(claimed_ids)) == len(assignments)
    assert len({(row.clip_id, row.user_id) for row in assignments}) == len(assignments)

    # Every receipt handed back is in the database with the status it promised.
    stored = {row.id: row for row in submissions}
    assert len(log["receipts"]) == len(submissions)
    for person_id, held, receipt in log["receipts"]:
        row = stored[receipt.submission_id]
        assert (row.assignment_id, row.user_id, row.status) == (
            held.assignment_id,
            person_id,
            receipt.status,
        )
    statuses = Counter(row.status for row in submissions)
    assert statuses["counted"] == CLIPS * OVERLAP
    assert statuses["late"] > 0  # dawdlers lost slots, and their text was kept
    assert all(isinstance(held, Claim) for _, held in log["claims"])
