"""Correcting a campaign: relabelling re-prices and adjusts, stuck clips leave the queue,
deactivated people give their leases back, projects price their own clips."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from crowdscribe.errors import Conflict, InvalidInput, NotFound
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Clip, LedgerEntry, WorkItem
from tests.builders import T0, add_clips, add_person
from transcribe import people
from transcribe.dispatch.holding import skip_assignment
from transcribe.dispatch.sequences import Claim
from transcribe.dispatch.sync_runner import claim_next_clip, submit_transcript
from transcribe.ledger import earnings_for, settle_submission
from transcribe.pricing import default_rate_card
from transcribe.projects import create_project, get_project, parse_rate_override
from transcribe.publish_plan import plan_publishing, project_terms
from transcribe.publishing import publish_clips
from transcribe.relabel import relabel_recording
from transcribe.stuck import drop_stuck, reopen_stuck, republish_stuck, stuck_clips
from transcribe.users import authenticate_token, create_user, pause_language

CARD = default_rate_card()


def _published(database: Database, count: int, **labels) -> list[str]:
    with database.session() as session:
        ids = add_clips(session, count, **labels)
        publish_clips(session, project=None, overlap=2, card=CARD, now=T0)
    return ids


def _claim(database: Database, user_id: int, at=T0) -> Claim:
    claim = claim_next_clip(database, user_id, now=at)
    assert isinstance(claim, Claim), claim
    return claim


def _relabel(session, group: str, reason: str = "child voices, labelled adult"):
    return relabel_recording(
        session,
        "test",
        speaker_group=group,
        language=None,
        reason=reason,
        rates_file=None,
        default_overlap=2,
        now=T0 + timedelta(hours=1),
    )


def test_relabel_reprices_clips_and_adjusts_credited_work_once(database: Database) -> None:
    ids = _published(database, 2, language="en", speaker_group="adult")
    with database.session() as session:
        ann = add_person(session, "ann").person
    claim = _claim(database, ann.id)
    with database.session() as session:
        receipt = submit_transcript(session, claim.assignment_id, ann.id, "hello", "r-1", T0)
        settle_submission(session, receipt.submission_id, True, CARD, T0)
    with database.session() as session:
        summary = _relabel(session, "child")
    # 6 s of English: 0.20 for an adult at 2.00/min, 0.30 for a child at 3.00/min.
    assert (summary.repriced, summary.adjustments) == (2, 1)
    assert summary.adjusted == {"CNY": Decimal("0.10")}
    with database.session() as session:
        prices = set(session.scalars(select(Clip.price).where(Clip.id.in_(ids))))
        assert prices == {Decimal("0.30")}
        entries = session.execute(
            select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.state, LedgerEntry.reason)
        ).all()
        assert sorted((kind, Decimal(amount), state) for kind, amount, state, _ in entries) == [
            ("accrual", Decimal("0.20"), "credited"),
            ("adjustment", Decimal("0.10"), "credited"),
        ]
        assert earnings_for(session, ann.id, T0).credited == Decimal("0.30")
    with database.session() as session:
        assert _relabel(session, "child").adjustments == 0  # already adjusted: nothing again
        assert _relabel(session, "adult").adjusted == {"CNY": Decimal("-0.10")}


def test_relabel_refuses_unknown_groups_and_a_missing_reason(database: Database) -> None:
    _published(database, 1)
    with database.session() as session, pytest.raises(InvalidInput, match="did you mean child"):
        _relabel(session, "kid")
    with database.session() as session, pytest.raises(InvalidInput, match="--reason"):
        _relabel(session, "child", reason=" ")
    with database.session() as session, pytest.raises(NotFound, match="no recording"):
        relabel_recording(
            session,
            "nope.wav",
            speaker_group="child",
            language=None,
            reason="x",
            rates_file=None,
            default_overlap=2,
            now=T0,
        )


def test_two_wrong_language_skips_take_a_clip_to_the_stuck_queue(database: Database) -> None:
    [clip_id] = _published(database, 1, language="en")
    with database.session() as session:
        skippers = [add_person(session, name).person for name in ("ann", "bo", "cy")]
        yue_worker = add_person(session, "dee", languages=("yue",)).person
    for number, person in enumerate(skippers[:2]):
        claim = _claim(database, person.id, T0 + timedelta(minutes=number))
        with database.session() as session:
            skip_assignment(session, claim.assignment_id, person.id, "wrong_language", T0)
    assert not isinstance(claim_next_clip(database, skippers[2].id, now=T0), Claim)
    with database.session() as session:
        [stuck] = stuck_clips(session, T0)
        assert (stuck.clip_id, stuck.skips) == (clip_id, {"wrong_language": 2})
        assert (stuck.kind, stuck.why) == ("withdrawn", "skipped as wrong_language by 2")
        summary = republish_stuck(
            session,
            clip_id,
            language="yue",
            speaker_group=None,
            reason="it is Cantonese",
            rates_file=None,
            default_overlap=2,
            now=T0 + timedelta(hours=1),
        )
        assert summary.repriced == 1
    claim = _claim(database, yue_worker.id, T0 + timedelta(hours=2))
    assert (claim.clip_id, claim.language, claim.price) == (clip_id, "yue", Decimal("0.23"))
    later = T0 + timedelta(hours=3)
    with database.session() as session:
        # Dee was the only one qualified in Cantonese: the second slot has nobody left.
        [stuck] = stuck_clips(session, later)
        assert (stuck.clip_id, stuck.kind) == (clip_id, "unreachable")
        assert stuck.why == "all 1 active people qualified in yue already had it"
        add_person(session, "eve", qualified=("yue",))
    with database.session() as session:
        assert stuck_clips(session, later) == []
        with pytest.raises(Conflict, match="people can still take it"):
            drop_stuck(session, clip_id, later)


def test_a_dropped_stuck_clip_is_unusable_and_not_offered(database: Database) -> None:
    [clip_id] = _published(database, 1, language="en")
    with database.session() as session:
        skippers = [add_person(session, name).person for name in ("ann", "bo")]
    for person in skippers:
        claim = _claim(database, person.id)
        with database.session() as session:
            skip_assignment(session, claim.assignment_id, person.id, "empty", T0)
    with database.session() as session:
        drop_stuck(session, clip_id, T0)
    with database.session() as session:
        clip = session.get(Clip, clip_id)
        assert (clip.status, clip.decision) == ("unusable", "dropped")
        states = set(session.scalars(select(WorkItem.state).where(WorkItem.clip_id == clip_id)))
        assert states == {"withdrawn"}


def test_a_clip_nobody_left_can_take_is_listed_with_why_and_can_be_dropped(
    database: Database,
) -> None:
    """All qualified people deactivated or paused: the clip is not left published unnoticed."""
    [clip_id] = _published(database, 1, language="yue")
    with database.session() as session:
        ann = add_person(session, "ann", qualified=("yue",)).person
        add_person(session, "bo", qualified=("yue",))
        add_person(session, "cy", qualified=("en",))
    _claim(database, ann.id)
    with database.session() as session:
        assert stuck_clips(session, T0) == []  # Bo can still take the second slot
        people.deactivate(session, "bo", T0)
        pause_language(session, ann.id, "yue", "accuracy", T0)
    with database.session() as session:
        [stuck] = stuck_clips(session, T0)
        assert (stuck.clip_id, stuck.kind) == (clip_id, "unreachable")
        assert stuck.why == "nobody active is qualified in yue (1 paused, 1 deactivated)"
        with pytest.raises(Conflict, match="published already but nobody active"):
            reopen_stuck(session, clip_id, T0)
        drop_stuck(session, clip_id, T0)
    with database.session() as session:
        clip = session.get(Clip, clip_id)
        assert (clip.status, clip.decision) == ("unusable", "dropped")
        assert "open" not in set(
            session.scalars(select(WorkItem.state).where(WorkItem.clip_id == clip_id))
        )
        assert stuck_clips(session, T0) == []


def test_a_withdrawn_clip_is_reopened_once_someone_new_is_qualified(database: Database) -> None:
    [clip_id] = _published(database, 1, language="en")
    with database.session() as session:
        skippers = [add_person(session, name).person for name in ("ann", "bo")]
    for person in skippers:
        claim = _claim(database, person.id)
        with database.session() as session:
            skip_assignment(session, claim.assignment_id, person.id, "empty", T0)
    with database.session() as session, pytest.raises(Conflict, match="nobody could take"):
        reopen_stuck(session, clip_id, T0)
    with database.session() as session:
        cy = add_person(session, "cy").person
        reopen_stuck(session, clip_id, T0)
    assert _claim(database, cy.id, T0 + timedelta(minutes=5)).clip_id == clip_id


def test_deactivating_stops_the_token_and_returns_leases(database: Database) -> None:
    _published(database, 1)
    with database.session() as session:
        person, token = create_user(session, "ann", ["transcriber"], ["en"], qualified=["en"])
        bo = add_person(session, "bo").person
    _claim(database, person.id)
    with database.session() as session:
        assert people.deactivate(session, "ann", T0) == 1
    with database.session() as session:
        assert authenticate_token(session, token) is None
        with pytest.raises(Conflict, match="already deactivated"):
            people.deactivate(session, "ann", T0)
    assert _claim(database, bo.id).clip_id  # the returned slot goes to someone else
    with database.session() as session:
        people.reactivate(session, "ann")
        assert authenticate_token(session, token).name == "ann"
        new_token = people.reset_token(session, "ann")
        assert authenticate_token(session, token) is None
        assert authenticate_token(session, new_token).name == "ann"


def test_editing_a_person_checks_everything_before_changing_anything(database: Database) -> None:
    with database.session() as session:
        add_person(session, "ann")
    with database.session() as session, pytest.raises(InvalidInput, match="did you mean yue"):
        people.edit_person(session, "ann", languages=["Cantonese"], time_zone="Asia/Shanghai")
    with database.session() as session:
        assert people.person_details(session, "ann").time_zone is None
        details = people.edit_person(
            session, "ann", languages=["en,yue"], time_zone="Asia/Shanghai", display_name="Ann"
        )
        assert (details.languages, details.time_zone) == (("en", "yue"), "Asia/Shanghai")
    with database.session() as session, pytest.raises(InvalidInput, match="Asia/Shanghai"):
        people.edit_person(session, "ann", time_zone="Asia/Shangai")


def test_a_project_prices_with_its_overrides_and_unknown_names_get_a_hint(
    database: Database,
) -> None:
    with database.session() as session:
        add_clips(session, 3, project="pilot", language="yue", speaker_group="child")
        create_project(
            session,
            "pilot",
            overlap=3,
            max_overlap=3,
            rate_overrides=(parse_rate_override("yue:child=9/3"),),
            budget=Decimal("100"),
            budget_currency="CNY",
        )
        with pytest.raises(NotFound, match="did you mean pilot"):
            get_project(session, "pilto")
        with pytest.raises(InvalidInput, match="overlap"):
            create_project(session, "other", overlap=0, max_overlap=3)
        with pytest.raises(InvalidInput, match="can never decide a clip"):
            create_project(session, "alone", overlap=1, max_overlap=1)
        terms = project_terms(session, "pilot", overlap=None, default_overlap=2, rates_file=None)
        plan = plan_publishing(session, terms)
    # 3 clips of 6 s at 9 CNY per 3 min = 0.30 each, 3 slots each.
    assert (plan.clips, plan.slots, plan.cost) == (3, 9, Decimal("2.70"))
    assert plan.to_dict()["audio_hours"] == 0.005
    with database.session() as session:
        assert session.scalar(select(WorkItem.id)) is None  # a plan publishes nothing
