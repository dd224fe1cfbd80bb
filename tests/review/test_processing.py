"""Applying agreement decisions to the database: clips claimed and transcribed through the real
dispatch queue, then decided once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from crowdscribe.storage.models import Dispute, GoldClip, LedgerEntry, Submission, WorkItem
from review.processing import complete_clip_ids, process_clips, score_gold_submissions
from review.project_policies import PolicyBook, policy_book
from tests.builders import add_person
from tests.review_world import add_clip, clip_row, publish, skip, transcribe
from transcribe.dispatch.sequences import Claim
from transcribe.dispatch.sync_runner import claim_next_clip, submit_transcript
from transcribe.pricing import default_rate_card
from transcribe.projects import create_project

TRUTH = "so we went down to the the river and um we caught three fish [laugh]"
DROPPED_REPETITION = "so we went down to the river and um we caught three fish [laugh]"
OTHER = "we were going to go to the river but it rained all day so we stayed in"


def run(database, project=None):
    with database.session() as session:
        ids = complete_clip_ids(session, project=project)
        return process_clips(
            session,
            ids,
            policies=PolicyBook(),
            card=default_rate_card(),
            max_overlap=3,
            now=datetime.now(UTC),
        )


def ledger_states(database, clip_id):
    with database.session() as session:
        rows = session.execute(
            select(Submission.text, LedgerEntry.state)
            .join(LedgerEntry, LedgerEntry.submission_id == Submission.id)
            .where(Submission.clip_id == clip_id)
        ).all()
    return dict(rows)


def test_near_identical_transcripts_are_agreed_and_paid(database, settings) -> None:
    clip_id = add_clip(database, settings)
    publish(database)
    ann, bob = add_person(database, "ann"), add_person(database, "bob")
    transcribe(database, ann, TRUTH)
    transcribe(database, bob, DROPPED_REPETITION)

    summary = run(database)

    assert summary.accepted == 1
    clip = clip_row(database, clip_id)
    assert clip.status == "agreed"
    # The words agree exactly (the dropped repetition is a verbatim difference, counted
    # apart), and the final text keeps the repetition one of them heard.
    assert clip.final_text == TRUTH
    assert clip.agreement_error == 0.0
    assert clip.decided_at is not None
    assert set(ledger_states(database, clip_id).values()) == {"credited"}


def test_a_clip_still_being_transcribed_is_not_decided(database, settings) -> None:
    add_clip(database, settings)
    publish(database)
    transcribe(database, add_person(database, "ann"), TRUTH)
    with database.session() as session:
        assert complete_clip_ids(session) == []


def test_disagreement_gets_one_more_slot_then_the_majority_wins(database, settings) -> None:
    clip_id = add_clip(database, settings)
    publish(database)
    ann, bob, cat = (add_person(database, name) for name in ("ann", "bob", "cat"))
    transcribe(database, ann, TRUTH)
    transcribe(database, bob, OTHER)

    first = run(database)
    assert first.more_transcriptions == 1
    assert clip_row(database, clip_id).status == "published"
    assert run(database).more_transcriptions == 0  # waits for the new slot
    transcribe(database, cat, TRUTH)

    third = run(database)
    assert third.accepted == 1
    clip = clip_row(database, clip_id)
    assert (clip.status, clip.final_text) == ("agreed", TRUTH)
    # Bob's transcript is rejected work: paid at the rejected rate.
    assert ledger_states(database, clip_id) == {TRUTH: "credited", OTHER: "discounted"}


def test_three_way_disagreement_goes_to_a_reviewer(database, settings) -> None:
    clip_id = add_clip(database, settings)
    publish(database)
    ann, bob, cat = (add_person(database, name) for name in ("ann", "bob", "cat"))
    transcribe(database, ann, TRUTH)
    transcribe(database, bob, OTHER)
    run(database)
    transcribe(database, cat, "nothing like the others at all [noise]")

    summary = run(database)

    assert summary.disputed == 1
    assert clip_row(database, clip_id).status == "disputed"
    with database.session() as session:
        dispute = session.scalar(select(Dispute).where(Dispute.clip_id == clip_id))
        assert (dispute.kind, dispute.state) == ("disagreement", "open")
        assert dispute.agreement_error > 0.5
    assert set(ledger_states(database, clip_id).values()) == {"pending"}


def test_two_bad_audio_skips_make_an_unusable_candidate(database, settings) -> None:
    clip_id = add_clip(database, settings)
    publish(database)
    skip(database, add_person(database, "ann"), "bad_audio")
    skip(database, add_person(database, "bob"), "bad_audio")

    summary = run(database)

    assert summary.unusable == 1
    with database.session() as session:
        dispute = session.scalar(select(Dispute).where(Dispute.clip_id == clip_id))
        assert dispute.kind == "bad_audio"
        slots = session.scalars(select(WorkItem.state).where(WorkItem.clip_id == clip_id)).all()
    assert slots == ["done", "done"]  # withdrawn: nobody else is handed this audio


def test_nothing_is_decided_twice(database, settings) -> None:
    clips = [add_clip(database, settings) for _ in range(3)]
    publish(database)
    ann, bob = add_person(database, "ann"), add_person(database, "bob")
    for text in (TRUTH, OTHER, TRUTH):
        transcribe(database, ann, TRUTH)
        transcribe(database, bob, text)

    first = run(database)
    assert (first.accepted, first.more_transcriptions) == (2, 1)
    decided = {clip_id: clip_row(database, clip_id).decided_at for clip_id in clips}
    with database.session() as session:
        # A second run handed the same ids (a retried task) changes nothing.
        again = process_clips(
            session,
            clips,
            policies=PolicyBook(),
            card=default_rate_card(),
            max_overlap=3,
            now=datetime.now(UTC),
        )
        slots = session.scalar(select(WorkItem.id).where(WorkItem.slot == 4))
    assert (again.accepted, again.more_transcriptions, again.skipped) == (0, 0, 3)
    assert slots is None
    assert {c: clip_row(database, c).decided_at for c in clips} == decided


def test_gold_transcripts_are_scored_against_the_reference(database, settings) -> None:
    clip_id = add_clip(database, settings)
    with database.session() as session:
        session.add(GoldClip(clip_id=clip_id, reference_text=TRUTH))
    publish(database)  # prices the gold clip without publishing it as work
    ann = add_person(database, "ann")
    claimed = claim_next_clip(database, ann.person.id, language="en", gold_rate=1.0)
    assert isinstance(claimed, Claim) and claimed.is_gold
    with database.session() as session:
        submit_transcript(
            session, claimed.assignment_id, ann.person.id, OTHER, "gold-1", datetime.now(UTC)
        )
        scored = score_gold_submissions(
            session, policies=PolicyBook(), card=default_rate_card(), now=datetime.now(UTC)
        )
        submission = session.scalar(select(Submission).where(Submission.clip_id == clip_id))
    assert scored == {ann.person.id}
    assert submission.error_vs_final > 0.5
    assert ledger_states(database, clip_id) == {OTHER: "discounted"}


def test_cantonese_final_text_is_stored_in_hong_kong_traditional(database, settings) -> None:
    clip_id = add_clip(database, settings, language="yue")
    publish(database)
    ann, bob = (
        add_person(database, "ann", languages=("yue",)),
        add_person(database, "bob", languages=("yue",)),
    )
    transcribe(database, ann, "佢哋今日去咗公园", "yue")  # typed in simplified characters
    transcribe(database, bob, "佢地今日去左公園", "yue")  # written-Cantonese variants

    assert run(database).accepted == 1
    assert clip_row(database, clip_id).final_text in ("佢哋今日去咗公園", "佢地今日去左公園")


def test_a_trusted_writers_lone_transcript_is_accepted_and_credited_unscored(
    database, settings
) -> None:
    # Adaptive overlap: clips published with one slot. Ann has four clips scored without error
    # (her expected error, shrunk toward the crowd's prior, is then about 2.8%).
    for _ in range(4):
        add_clip(database, settings)
    publish(database, overlap=2)
    ann, bob, cat = (add_person(database, name) for name in ("ann", "bob", "cat"))
    for member in (ann, bob):
        for _ in range(4):
            transcribe(database, member, TRUTH)
    assert run(database).accepted == 4
    trusted, unknown = add_clip(database, settings), add_clip(database, settings)
    publish(database, overlap=1)
    assert transcribe(database, ann, DROPPED_REPETITION) == trusted
    assert transcribe(database, cat, TRUTH) == unknown

    summary = run(database)

    assert (summary.accepted, summary.more_transcriptions) == (1, 1)
    clip = clip_row(database, trusted)
    assert (clip.status, clip.final_text, clip.decision) == (
        "agreed",
        DROPPED_REPETITION,
        "consensus:single",
    )
    assert ledger_states(database, trusted) == {DROPPED_REPETITION: "credited"}
    with database.session() as session:
        lone = session.scalar(select(Submission).where(Submission.clip_id == trusted))
        assert lone.error_vs_final is None  # her own text can not vouch for her
        slots = session.scalars(select(WorkItem.state).where(WorkItem.clip_id == unknown)).all()
    # Cat is not known yet: a second person is asked.
    assert sorted(slots) == ["done", "open"]
    assert clip_row(database, unknown).status == "published"


ONE_WORD_OFF = "so we went down to the the river and um we caught three dish [laugh]"


def test_each_clip_is_decided_by_its_projects_policy(database, settings, tmp_path) -> None:
    """One word in thirteen apart: within the default 0.10, where the default's split-word rule
    asks a third person; a project whose policy file asks for 0.05 and sends every disagreement
    straight to a reviewer disputes it."""
    strict = tmp_path / "strict.toml"
    strict.write_text('wer = 0.05\n[escalation]\nrule = "review"\n', encoding="utf-8")
    with database.session() as session:
        create_project(session, "strict", overlap=2, max_overlap=3, policy_file=strict)
    river, careful = add_clip(database, settings), add_clip(database, settings, project="strict")
    publish(database)
    ann, bob = add_person(database, "ann"), add_person(database, "bob")
    for _ in range(2):
        transcribe(database, ann, TRUTH)
        transcribe(database, bob, ONE_WORD_OFF)

    with database.session() as session:
        policies = policy_book(session, None)
        summary = process_clips(
            session,
            complete_clip_ids(session),
            policies=policies,
            card=default_rate_card(),
            max_overlap=3,
            now=datetime.now(UTC),
        )

    assert policies.for_project("strict").escalation == "review"
    assert (summary.accepted, summary.disputed, summary.more_transcriptions) == (0, 1, 1)
    assert clip_row(database, river).status == "published"
    assert clip_row(database, careful).status == "disputed"
