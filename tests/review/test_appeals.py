"""Feedback on discounted work, and appeals: once each, decided by a reviewer, an upheld one
credited as a new ledger entry that leaves the discounted entry as it was."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from crowdscribe.errors import Conflict, Forbidden, InvalidInput, NotFound
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Clip, GoldClip, LedgerEntry, Submission
from review.appeals import appeal_queue, decide_appeal, file_appeal
from review.feedback import feedback_for, word_diff
from tests.builders import T0, add_clips, add_person, add_submitted
from transcribe.ledger import (
    accrue,
    earnings_for,
    record_adjustment,
    settle_submission,
    work_total,
)
from transcribe.pricing import default_rate_card
from transcribe.relabel import relabel_clips
from transcribe.users import create_user

CARD = default_rate_card()
FINAL = "我哋一齊去街市買餸"


def _discounted(session, person, text: str, *, gold: bool = False) -> int:
    [clip_id] = add_clips(session, 1, language="yue", prefix=f"c-{person.name}-{gold}")
    clip = session.get(Clip, clip_id)
    clip.price, clip.currency = Decimal("1.20"), "CNY"
    clip.status, clip.final_text, clip.decision = "agreed", FINAL, "consensus:medoid"
    submission_id = add_submitted(session, clip_id, person.id, text)
    submission = session.get(Submission, submission_id)
    submission.error_vs_final, submission.is_gold = 0.44, gold
    if gold:
        session.add(GoldClip(clip_id=clip_id, reference_text="阿媽話要買魚同埋菜"))
    accrue(session, submission_id, person.id, clip_id, Decimal("1.20"), "CNY", T0)
    settle_submission(session, submission_id, False, CARD, T0)
    session.flush()
    return submission_id


def test_a_discounted_transcript_shows_why_and_where_in_the_written_characters(
    database: Database,
) -> None:
    with database.session() as session:
        ann = add_person(session, "ann", qualified=("yue",))
        _discounted(session, ann, "我哋去街市買餸")
        [item] = feedback_for(session, ann.id)
    assert item.own_text == "我哋去街市買餸" and item.final_text == FINAL
    assert "44%" in item.reason and "agreed" in item.reason
    assert item.paid < item.full_price == Decimal("1.20")
    assert [piece.kind for piece in item.diff] == ["equal", "delete", "equal"]
    # 餸 and 買 as written, not the simplified forms they are compared in (𩠌, 买).
    assert item.diff[-1].own == ("去", "街", "市", "買", "餸")
    assert item.diff[1].final == ("一", "齊")


def test_a_gold_reference_is_never_shown_to_the_transcriber(database: Database) -> None:
    with database.session() as session:
        ann = add_person(session, "ann", qualified=("yue",))
        _discounted(session, ann, "阿媽買魚", gold=True)
        [item] = feedback_for(session, ann.id)
    assert item.final_text is None and item.diff == ()
    assert "阿媽話要買魚同埋菜" not in repr(item.to_dict())


def test_an_upheld_appeal_credits_the_difference_as_a_new_entry(database: Database) -> None:
    with database.session() as session:
        ann = add_person(session, "ann", qualified=("yue",))
        rita, _ = create_user(session, "rita", ["reviewer"], ["yue"])
        submission_id = _discounted(session, ann, "我哋去街市買餸")
        paid = session.scalar(select(LedgerEntry.amount))
        appeal = file_appeal(session, ann.id, submission_id, "佢講咗兩次", T0)
        [case] = appeal_queue(session)
        assert (case.id, case.note, case.final_text) == (appeal.id, "佢講咗兩次", FINAL)
        decided = decide_appeal(
            session, appeal.id, rita.id, uphold=True, comment="啱，係我哋聽漏咗", now=T0
        )
        entries = session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
        earnings = earnings_for(session, ann.id, T0)
        [item] = feedback_for(session, ann.id)
        assert appeal_queue(session) == []
    assert decided.state == "upheld"
    original, adjustment = entries
    assert (original.state, original.amount) == ("discounted", paid)
    assert adjustment.adjusts_entry_id == original.id and adjustment.submission_id is None
    assert adjustment.state == "credited" and adjustment.amount == Decimal("1.20") - paid
    assert earnings.credited + earnings.discounted == Decimal("1.20")
    assert item.appeal.comment == "啱，係我哋聽漏咗" and item.appeal.credited == adjustment.amount


def test_an_appeal_and_a_relabel_correct_the_same_work_with_one_kind_of_entry(
    database: Database,
) -> None:
    """Both corrections are adjustments naming the accrual and why; the relabel after an upheld
    appeal brings the work to the new full price, and the discounted entry is never edited."""
    with database.session() as session:
        ann = add_person(session, "ann", qualified=("yue",))
        rita, _ = create_user(session, "rita", ["reviewer"], ["yue"])
        submission_id = _discounted(session, ann, "我哋去街市買餸")
        appeal = file_appeal(session, ann.id, submission_id, "佢講咗兩次", T0)
        decide_appeal(session, appeal.id, rita.id, uphold=True, comment="啱", now=T0)
        clip_id = session.scalar(select(Submission.clip_id))
        # Mandarin after all: 6 s at 2.00 a minute is 0.20, owed in full since the appeal.
        summary = relabel_clips(
            session,
            [clip_id],
            speaker_group=None,
            language="cmn",
            reason="Mandarin, labelled Cantonese",
            rates_file=None,
            default_overlap=2,
            now=T0 + timedelta(hours=1),
        )
        entries = session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
        again = relabel_clips(
            session,
            [clip_id],
            speaker_group=None,
            language="cmn",
            reason="once more",
            rates_file=None,
            default_overlap=2,
            now=T0 + timedelta(hours=2),
        )
        total = earnings_for(session, ann.id, T0 + timedelta(hours=2))
    original, *corrections = entries
    assert (original.kind, original.state, original.amount) == (
        "accrual",
        "discounted",
        Decimal("0.60"),
    )
    shapes = [(e.kind, e.adjusts_entry_id, e.submission_id, e.state) for e in corrections]
    assert shapes == [("adjustment", original.id, None, "credited")] * 2
    assert [(e.amount, e.reason) for e in corrections] == [
        (Decimal("0.60"), f"appeal {appeal.id} upheld"),
        (Decimal("-1.00"), "Mandarin, labelled Cantonese"),
    ]
    assert summary.adjusted == {"CNY": Decimal("-1.00")} and again.adjustments == 0
    assert total.credited + total.discounted == Decimal("0.20")


def test_an_adjustment_names_an_accrual_and_a_reason(database: Database) -> None:
    with database.session() as session:
        ann = add_person(session, "ann", qualified=("yue",))
        _discounted(session, ann, "我哋去街市買餸")
        entry = session.scalar(select(LedgerEntry))
        with pytest.raises(InvalidInput, match="needs a reason"):
            record_adjustment(session, entry.id, Decimal("0.10"), reason=" ", now=T0)
        made = record_adjustment(session, entry.id, Decimal("0.10"), reason="typo", now=T0)
        with pytest.raises(InvalidInput, match="adjust the work's accrual"):
            record_adjustment(session, made.id, Decimal("0.10"), reason="again", now=T0)
        assert (made.state, made.kind, made.adjusts_entry_id) == (
            "discounted",
            "adjustment",
            entry.id,
        )
        assert work_total(session, entry.id) == Decimal("0.70")


def test_a_verdict_is_appealed_once_and_decided_once(database: Database) -> None:
    with database.session() as session:
        ann = add_person(session, "ann", qualified=("yue",))
        bob = add_person(session, "bob", qualified=("yue",))
        rita, _ = create_user(session, "rita", ["reviewer"], ["yue"])
        submission_id = _discounted(session, ann, "我哋去街市買餸")
        with pytest.raises(InvalidInput):
            file_appeal(session, ann.id, submission_id, "  ", T0)
        with pytest.raises(NotFound):
            file_appeal(session, bob.id, submission_id, "not mine", T0)
        appeal = file_appeal(session, ann.id, submission_id, "I heard it right", T0)
        with pytest.raises(Conflict):
            file_appeal(session, ann.id, submission_id, "again", T0 + timedelta(hours=1))
        with pytest.raises(Forbidden):
            decide_appeal(session, appeal.id, bob.id, uphold=True, comment="", now=T0)
        decide_appeal(session, appeal.id, rita.id, uphold=False, comment="一齊 is said", now=T0)
        with pytest.raises(Conflict):
            decide_appeal(session, appeal.id, rita.id, uphold=True, comment="", now=T0)
        assert len(session.scalars(select(LedgerEntry)).all()) == 1


def test_word_diff_of_english_keeps_the_written_case() -> None:
    pieces = word_diff("I want the big dog", "I want a big Dog", "en")
    assert [(p.kind, p.own, p.final) for p in pieces] == [
        ("equal", ("I", "want"), ("I", "want")),
        ("substitute", ("a",), ("the",)),
        ("equal", ("big", "Dog"), ("big", "dog")),
    ]
