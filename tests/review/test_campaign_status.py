"""The campaign's figures: pure rules on hand-made facts, and the same read from both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Clip, Dispute, LedgerEntry, Submission
from review.campaign_status import (
    CampaignFacts,
    ClipFact,
    campaign_status,
    status_of_campaign,
)
from tests.builders import add_clips, add_person, add_submitted
from transcribe.ledger import accrue
from transcribe.pricing import default_rate_card, price_clip
from transcribe.projects import create_project
from transcribe.publishing import publish_clips

NOW = datetime(2025, 3, 14, 18, 0, tzinfo=UTC)
CARD = default_rate_card()


def clip(status: str, *, language: str = "yue", days_ago: int = 0, **values) -> ClipFact:
    decided = NOW - timedelta(days=days_ago) if status in ("agreed", "resolved") else None
    defaults = {
        "project": "p1",
        "language": language,
        "speaker_group": "adult",
        "status": status,
        "duration_s": 6.0,
        "price": Decimal("0.50"),
        "overlap": 2,
        "counted": 0,
        "created_at": NOW - timedelta(days=20),
        "decided_at": decided,
        "agreement_error": 0.05 if status == "agreed" else None,
        "disputed": status in ("disputed", "resolved"),
    }
    return ClipFact(**{**defaults, **values})


def status_of(facts: CampaignFacts, budgets=None):
    return campaign_status(facts, now=NOW, budgets=budgets or {}, card=CARD, default_overlap=2)


def test_progress_throughput_and_backlog_by_day() -> None:
    facts = CampaignFacts(
        clips=[
            clip("agreed", days_ago=30),
            clip("agreed", days_ago=2),
            clip("resolved", days_ago=0),
            clip("published"),
        ],
        spend=[],
        submissions=[(NOW - timedelta(days=1), 6.0)] * 3 + [(NOW, 12.0)],
        open_disputes=[("yue", NOW - timedelta(hours=5)), ("cmn", NOW - timedelta(hours=1))],
        paused=[],
    )
    figures = status_of(facts)
    assert len(figures.progress) == 14 and figures.progress[-1].day == NOW.date()
    # the clip decided 30 days ago counts from the first day shown on
    assert [p.final_clips for p in figures.progress[-3:]] == [2, 2, 3]
    assert figures.progress[0].final_clips == 1
    assert figures.throughput[-2][1:] == (3, pytest.approx(0.3))
    assert figures.throughput[-1][1:] == (1, pytest.approx(0.2))
    assert figures.clips_by_state == {"published": 1, "agreed": 2, "resolved": 1}
    assert (figures.backlog_open, figures.backlog_oldest_h) == (2, pytest.approx(5.0))
    assert figures.backlog_by_language == {"cmn": 1, "yue": 1}


def test_agreement_and_dispute_rate_per_language() -> None:
    facts = CampaignFacts(
        clips=[clip("agreed")] * 3
        + [clip("resolved"), clip("published")]
        + [clip("disputed", language="cmn"), clip("agreed", language="cmn")],
        spend=[],
        submissions=[],
        open_disputes=[],
        paused=[],
    )
    rows = {row.language: row for row in status_of(facts).languages}
    assert (rows["yue"].agreed, rows["yue"].disputed) == (3, 1)
    assert rows["yue"].agreement_rate == pytest.approx(0.75)
    assert rows["yue"].dispute_rate == pytest.approx(0.25)
    assert rows["cmn"].dispute_rate == pytest.approx(0.5)


def test_spend_is_projected_to_the_end_and_against_the_budget() -> None:
    # 7 days of 2.00 a day; left: a published clip with one of two slots done (0.50), and a
    # collected 6 s clip priced by the card for two transcriptions.
    spend = [("p1", CARD.currency, Decimal("2.00"), NOW - timedelta(days=d)) for d in range(7)]
    facts = CampaignFacts(
        clips=[clip("published", counted=1), clip("collected", price=None, overlap=None)],
        spend=spend,
        submissions=[],
        open_disputes=[],
        paused=[],
    )
    (figures,) = status_of(facts, budgets={("p1", CARD.currency): Decimal("14.50")}).spend
    left = Decimal("0.50") + 2 * price_clip(6.0, "yue", "adult", CARD)
    assert figures.spent == Decimal("14.00")
    assert figures.remaining_cost == left
    assert figures.projected_total == Decimal("14.00") + left
    assert figures.per_day == Decimal("2.00")
    assert figures.projected_end == NOW.date() + timedelta(days=1)
    assert figures.over_budget is (Decimal("14.00") + left > Decimal("14.50"))
    assert figures.cumulative[-1].spent == Decimal("14.00")
    assert figures.cumulative[-8].spent == Decimal("0.00")


def test_figures_serialise_money_as_strings() -> None:
    facts = CampaignFacts(
        clips=[clip("agreed")],
        spend=[("p1", "CNY", Decimal("1.10"), NOW)],
        submissions=[],
        open_disputes=[],
        paused=[],
    )
    document = status_of(facts).to_dict()
    assert document["spend"][0]["spent"] == "1.10"
    assert document["progress"][-1] == {"day": "2025-03-14", "final_clips": 1}


def test_status_reads_the_same_figures_from_the_database(database: Database) -> None:
    with database.session() as session:
        person = add_person(session, "mei", languages=("yue",)).person
        ids = add_clips(session, 4, language="yue", duration_s=6.0)
        session.query(Clip).filter(Clip.id.in_(ids[:2])).update(
            {"status": "agreed", "decided_at": NOW, "agreement_error": 0.1}
        )
        session.query(Clip).filter(Clip.id == ids[2]).update(
            {"status": "disputed", "price": Decimal("0.50"), "overlap": 2}
        )
        session.add(Dispute(clip_id=ids[2], kind="disagreement", created_at=NOW))
        for clip_id in ids[:3]:
            submission_id = add_submitted(session, clip_id, person.id, "佢哋", NOW)
            session.get(Submission, submission_id).created_at = NOW
            accrue(session, submission_id, person.id, clip_id, Decimal("0.50"), "CNY", NOW)
        # The budget is the project's own, in the card's currency when it names none.
        create_project(session, "default", overlap=2, max_overlap=5, budget=Decimal("10"))
    with database.session() as session:
        figures = status_of_campaign(session, now=NOW, card=CARD, default_overlap=2)
        entries = session.query(LedgerEntry).count()
    assert entries == 3
    assert figures.clips_by_state == {"collected": 1, "agreed": 2, "disputed": 1}
    assert figures.progress[-1].final_clips == 2
    assert figures.throughput[-1].transcripts == 3
    (spend,) = figures.spend
    assert (spend.project, spend.spent, spend.budget) == ("default", Decimal("1.50"), Decimal("10"))
    assert spend.remaining_cost == 2 * price_clip(6.0, "yue", "adult", CARD)
    (yue,) = figures.languages
    assert (yue.agreed, yue.disputed) == (2, 1)
    assert figures.backlog_open == 1


def test_clips_nobody_can_finish_are_counted_on_the_dashboard(database: Database) -> None:
    with database.session() as session:
        add_clips(session, 2, language="wuu")
        publish_clips(session, project=None, overlap=2, card=CARD, now=NOW)
        add_person(session, "mei", qualified=("yue",))
    with database.session() as session:
        figures = status_of_campaign(session, now=NOW, card=CARD, default_overlap=2)
        add_person(session, "ah-wu", qualified=("wuu",))
    assert figures.stuck_by_kind == {"unreachable": 2}
    with database.session() as session:
        later = status_of_campaign(session, now=NOW, card=CARD, default_overlap=2)
    assert later.stuck_by_kind == {}
