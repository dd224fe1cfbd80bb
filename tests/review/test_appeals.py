"""Feedback on discounted work, and appeals: once each, decided by a reviewer, an upheld one
credited as a new ledger entry that leaves the discounted entry as it was."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from crowdscribe.errors import Conflict, Forbidden, InvalidInput, NotFound
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Clip, GoldClip, LedgerEntry, Submission
from review.accuracy import (
    ErrorEvidence,
    accuracy_by_language,
    should_pause,
    track_record,
    worst_recent_clips,
)
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
from transcribe.standing import leaderboard, set_leaderboard_choice
from transcribe.users import create_user

CARD = default_rate_card()
FINAL = "我哋一齊去街市買餸"


def _discounted(session, person, text: str, *, gold: bool = False, number: int = 0) -> int:
    [clip_id] = add_clips(session, 1, language="yue", prefix=f"c-{person.name}-{gold}-{number}")
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
        ann = add_person(session, "ann", languages=("yue",)).person
        _discounted(session, ann, "我哋去街市買餸")
        [item] = feedback_for(session, ann.id)
    assert item.verdict.own_text == "我哋去街市買餸" and item.verdict.final_text == FINAL
    assert "44%" in item.reason and "agreed" in item.reason
    assert item.verdict.paid < item.verdict.full_price == Decimal("1.20")
    assert [piece.kind for piece in item.verdict.diff] == ["equal", "delete", "equal"]
    # 餸 and 買 as written, not the simplified forms they are compared in (𩠌, 买).
    assert item.verdict.diff[-1].own == ("去", "街", "市", "買", "餸")
    assert item.verdict.diff[1].final == ("一", "齊")


def test_a_gold_reference_is_never_shown_to_the_transcriber(database: Database) -> None:
    with database.session() as session:
        ann = add_person(session, "ann", languages=("yue",)).person
        _discounted(session, ann, "阿媽買魚", gold=True)
        [item] = feedback_for(session, ann.id)
    assert item.verdict.final_text is None and item.verdict.diff == ()
    assert "阿媽話要買魚同埋菜" not in repr(item.to_dict())


def test_an_upheld_appeal_credits_the_difference_as_a_new_entry(database: Database) -> None:
    with database.session() as session:
        ann = add_person(session, "ann", languages=("yue",)).person
        rita, _ = create_user(session, "rita", ["reviewer"], ["yue"])
        submission_id = _discounted(session, ann, "我哋去街市買餸")
        paid = session.scalar(select(LedgerEntry.amount))
        appeal = file_appeal(session, ann.id, submission_id, "佢講咗兩次", T0)
        [case] = appeal_queue(session)
        assert (case.id, case.note, case.verdict.final_text) == (appeal.id, "佢講咗兩次", FINAL)
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
        ann = add_person(session, "ann", qualified=("yue",)).person
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
        ann = add_person(session, "ann", qualified=("yue",)).person
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


def test_an_upheld_appeal_changes_the_error_rate_accuracy_standing_and_the_pause_rule_count(
    database: Database,
) -> None:
    with database.session() as session:
        ann = add_person(session, "ann", qualified=("yue",)).person
        rita, _ = create_user(session, "rita", ["reviewer"], ["yue"])
        appealed, *_rest = [_discounted(session, ann, "我哋去街市買餸", number=n) for n in range(5)]
        set_leaderboard_choice(session, ann.id, show=True, display_name=None)

        def figures() -> tuple[float, ErrorEvidence, float]:
            [row] = accuracy_by_language(session, ann.id, window=50)
            evidence = track_record(session, ann.id, "yue", window=50)
            board = leaderboard(session, language="yue", period="month", now=T0, zone=UTC)
            return row.error_rate, evidence, board.rows[0].totals.accuracy

        before = figures()
        appeal = file_appeal(session, ann.id, appealed, "佢講咗兩次", T0)
        assert figures() == before  # filing changes nothing; only an upheld verdict does
        decide_appeal(session, appeal.id, rita.id, uphold=True, comment="啱", now=T0)
        after = figures()
        worst = worst_recent_clips(session, ann.id, "yue", window=50)
        stored = session.get(Submission, appealed).error_vs_final
    assert before[0] == before[1].mean == pytest.approx(0.44) and before[2] == pytest.approx(0.56)
    # Four clips at 44% and the upheld one at 0: the mean, its bound and the accuracy all move,
    # and the evidence no longer shows the error above a 25% bar with 95% confidence.
    assert after[0] == after[1].mean == pytest.approx(0.352)
    assert after[2] == pytest.approx(1 - 0.352)
    assert should_pause(before[1], bar=0.25, min_clips=5)
    assert not should_pause(after[1], bar=0.25, min_clips=5)
    assert appealed not in [clip.scored.submission_id for clip in worst] and len(worst) == 4
    assert stored == pytest.approx(0.44)  # the measured rate stays on record


def test_a_verdict_is_appealed_once_and_decided_once(database: Database) -> None:
    with database.session() as session:
        ann = add_person(session, "ann", languages=("yue",)).person
        bob = add_person(session, "bob", languages=("yue",)).person
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
