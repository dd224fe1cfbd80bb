"""The dispatch invariants the load bench and its test check: they hold for work done through
the queue, and each one names what broke when it does not."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from crowdscribe.storage.db import Database
from crowdscribe.storage.models import LedgerEntry, Submission
from tests.builders import T0, add_clips, add_person, add_submitted
from transcribe.dispatch.audit import Acknowledged, dispatch_findings
from transcribe.dispatch.sync_runner import claim_next_clip, submit_in_own_session
from transcribe.pricing import default_rate_card
from transcribe.publishing import publish_clips


def _work_through_the_queue(database: Database) -> tuple[list[Acknowledged], list[int]]:
    with database.session() as session:
        clips = add_clips(session, 2)
        publish_clips(session, project=None, overlap=2, card=default_rate_card(), now=T0)
        people = [add_person(session, name).person.id for name in ("ana", "bo", "cy")]
    acknowledged = []
    for user_id in people[:2]:
        for _ in clips:
            claim = claim_next_clip(database, user_id, now=T0)
            request_id = f"r-{claim.assignment_id}"
            receipt = submit_in_own_session(
                database, claim.assignment_id, user_id, "we went [noise] home", request_id, T0
            )
            acknowledged.append(
                Acknowledged(user_id, claim.assignment_id, request_id, receipt.submission_id)
            )
    return acknowledged, people


def _broken(database: Database, acknowledged: list[Acknowledged]) -> dict[str, list[str]]:
    with database.session() as session:
        return {
            name: found
            for name, found in dispatch_findings(session, acknowledged, T0).items()
            if found
        }


def test_work_done_through_the_queue_keeps_every_invariant(database: Database) -> None:
    acknowledged, _ = _work_through_the_queue(database)
    assert len(acknowledged) == 4
    assert _broken(database, acknowledged) == {}


def test_a_receipt_the_database_does_not_hold_is_found(database: Database) -> None:
    acknowledged, _ = _work_through_the_queue(database)
    first = acknowledged[0]
    lost = Acknowledged(first.user_id, "elsewhere", "r-elsewhere", 10_000)
    told_twice = Acknowledged(first.user_id, first.assignment_id, "r-other", first.submission_id)
    broken = _broken(database, [*acknowledged, lost, told_twice])
    assert list(broken) == ["acknowledged stored once"]
    assert any("no submission is stored" in finding for finding in broken[list(broken)[0]])
    assert any("2 different requests" in finding for finding in broken[list(broken)[0]])


def test_a_clip_over_its_overlap_and_a_ledger_off_the_counted_work_are_found(
    database: Database,
) -> None:
    acknowledged, people = _work_through_the_queue(database)
    with database.session() as session:
        clip_id = session.scalar(select(Submission.clip_id).limit(1))
        add_submitted(session, clip_id, people[2], "we went home")  # counted, no slot, unpaid
        session.execute(delete(LedgerEntry).where(LedgerEntry.user_id == people[0]))
    broken = _broken(database, acknowledged)
    assert set(broken) == {"within overlap", "ledger = counted work"}
    assert any(f"clip {clip_id} has 3 counted" in finding for finding in broken["within overlap"])
    assert any(f"person {people[0]} has 0.00" in f for f in broken["ledger = counted work"])


def test_a_late_text_after_a_takeover_holds_no_slot(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 1)
        publish_clips(session, project=None, overlap=1, card=default_rate_card(), now=T0)
        late, taker = (add_person(session, name).person.id for name in ("ana", "bo"))
    first = claim_next_clip(database, late, now=T0, lease_s=60)
    after_lease = T0 + timedelta(seconds=120)
    second = claim_next_clip(database, taker, now=after_lease)
    acknowledged = []
    for user_id, claim in ((taker, second), (late, first)):
        request_id = f"r-{claim.assignment_id}"
        receipt = submit_in_own_session(
            database, claim.assignment_id, user_id, "we went home", request_id, after_lease
        )
        acknowledged.append(
            Acknowledged(user_id, claim.assignment_id, request_id, receipt.submission_id)
        )
    assert receipt.status == "late"
    assert _broken(database, acknowledged) == {}
