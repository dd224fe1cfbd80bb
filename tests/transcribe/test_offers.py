"""What the home page offers: clips waiting in each language, their pay range, the price of the
clip "Take next clip" opens, and whether the exam is open."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Clip, GoldClip
from tests.builders import T0, add_clips, add_person
from tests.transcribe.queue_paths import queue_for
from transcribe.dispatch.sequences import Claim, NoWork
from transcribe.dispatch.sync_runner import claim_next_clip
from transcribe.offers import exam_is_open, offers_for
from transcribe.pricing import default_rate_card
from transcribe.publishing import publish_clips


def _publish(database: Database) -> None:
    with database.session() as session:
        publish_clips(session, project=None, overlap=2, card=default_rate_card(), now=T0)


def _offers(database: Database, person, qualified: tuple[str, ...]) -> dict:
    with database.session() as session:
        offers = offers_for(session, person.id, person.languages, qualified, exam_clips=2, now=T0)
    return {offer.language: offer for offer in offers}


def test_work_waits_with_its_pay_range_before_the_exam(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 2, language="yue", duration_s=30.0)
        add_clips(session, 1, language="yue", duration_s=60.0, priority=1)
        newcomer = add_person(session, "new", languages=("yue", "cmn"), qualified=()).person
    _publish(database)
    offers = _offers(database, newcomer, ())
    yue, cmn = offers["yue"], offers["cmn"]
    assert yue.open_clips == 3 and yue.currency == "CNY"
    assert yue.price_range == (Decimal("1.17"), Decimal("2.33"))
    assert yue.next_price is None and not yue.qualified
    assert (cmn.open_clips, cmn.price_range) == (0, None)


def test_the_button_price_is_that_of_the_clip_the_claim_opens(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 2, language="yue", duration_s=30.0)
        add_clips(session, 1, language="yue", duration_s=60.0, priority=1)
        ann = add_person(session, "ann", languages=("yue",)).person
    _publish(database)
    offered = _offers(database, ann, ("yue",))["yue"].next_price
    claimed = claim_next_clip(database, ann.id, language="yue", now=T0)
    assert offered == claimed.price == Decimal("2.33")
    # The next one is a 30 s clip; a clip already had is not offered again.
    after = _offers(database, ann, ("yue",))["yue"]
    assert after.next_price == Decimal("1.17") and after.open_clips == 2
    # Once a lease runs out the slot waits again, for others.
    later = T0 + timedelta(hours=1)
    with database.session() as session:
        bob = add_person(session, "bob", languages=("yue",)).person
        offers = offers_for(session, bob.id, ("yue",), ("yue",), exam_clips=2, now=later)
    assert offers[0].open_clips == 3


def test_the_exam_opens_with_enough_gold_clips(database: Database) -> None:
    with database.session() as session:
        clip_ids = add_clips(session, 2, language="cmn")
        newcomer = add_person(session, "new", languages=("cmn",), qualified=()).person
        session.add(GoldClip(clip_id=clip_ids[0], reference_text="你好"))
    assert not _offers(database, newcomer, ())["cmn"].exam_open
    with database.session() as session:
        session.add(GoldClip(clip_id=clip_ids[1], reference_text="再见"))
    assert _offers(database, newcomer, ())["cmn"].exam_open
    assert not exam_is_open(0, 0)


def test_offers_count_open_clips_and_their_pay_per_language(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 3, language="en", duration_s=30.0)
        add_clips(session, 2, language="yue", duration_s=30.0)
        ann = add_person(session, "ann", qualified=("en", "yue")).person
    with database.session() as session:
        publish_clips(session, project=None, overlap=1, card=default_rate_card(), now=T0)
    claim_next_clip(database, ann.id, language="yue", now=T0)
    offers = _offers(database, ann, ("en", "yue"))
    assert offers["en"].open_clips == 3 and offers["yue"].open_clips == 1
    assert offers["en"].price_range == (Decimal("1.00"), Decimal("1.00"))
    # 7 CNY per 3 minutes: a 30 s clip pays 1.17, rounded to the cent.
    assert (offers["yue"].next_price, offers["yue"].currency) == (Decimal("1.17"), "CNY")


LEASE_S = 600


def test_every_clip_offered_can_be_claimed_and_no_work_promises_no_unpublished_clip(
    queue_database: Database,
) -> None:
    """A clip that went to review while leased (two "bad audio" skips) is offered by neither the
    home page's offers nor the no-work answer (issue 9, on every queue path)."""
    database = queue_database
    queue = queue_for(database)
    start, now = T0, T0 + timedelta(seconds=LEASE_S + 60)
    with database.session() as session:
        disputed, held, _spare = add_clips(session, 3)
        ann, bob, cat, dan = (
            add_person(session, name).person for name in ("ann", "bob", "cat", "dan")
        )
    with database.session() as session:
        publish_clips(session, project=None, overlap=1, card=default_rate_card(), now=T0)
    assert queue.claim(ann.id, now=start, lease_s=LEASE_S).clip_id == disputed
    later = start + timedelta(seconds=300)
    assert queue.claim(cat.id, now=later, lease_s=LEASE_S).clip_id == held
    with database.session() as session:
        session.get(Clip, disputed).status = "disputed"
    with database.session() as session:
        # Ann's lease has run out, Cat's has not: the spare clip is the only one to offer.
        offers = offers_for(session, dan.id, ("en",), ("en",), exam_clips=2, now=now)
    counted = sum(offer.open_clips for offer in offers)
    taken = [queue.claim(dan.id, now=now, lease_s=LEASE_S) for _ in range(counted + 1)]
    assert all(isinstance(got, Claim) for got in taken[:counted])
    assert isinstance(taken[-1], NoWork)
    assert counted == 1
    # While Ann's lease still ran, Cat's and Dan's slots were the ones to come back.
    nothing = queue.claim(bob.id, now=start + timedelta(seconds=310), lease_s=LEASE_S)
    assert isinstance(nothing, NoWork)
    assert "2 are held by others" in nothing.message
    assert nothing.next_expected_at == start + timedelta(seconds=300 + LEASE_S)
