"""Scoring each transcript of a decided clip against its final text, and settling its pay.

"Rejected work" is a transcript whose error rate against the clip's final text is above the clip's
agreement threshold (the same bar two transcripts must meet to agree with each other). Rejected
work is still paid, at the rate card's ``rejected_factor``; accepted work is credited in full.
A clip found unusable (bad audio, wrong language, ...) rejects nobody: the audio was at fault, so
every transcript on it is credited and none gets an error rate.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdscribe.storage.models import Clip, Submission
from review.agreement import error_rate
from transcribe.ledger import settle_submission
from transcribe.pricing import RateCard


def is_accepted(error_vs_final: float, threshold: float) -> bool:
    """Whether a transcript counts as accepted work: within the clip's threshold of the final."""
    return error_vs_final <= threshold + 1e-9


def settle_against_final(
    session: Session,
    clip: Clip,
    final_text: str,
    threshold: float,
    card: RateCard,
    now: datetime,
) -> list[tuple[int, float, bool]]:
    """Fill ``error_vs_final`` for every non-gold transcript of ``clip`` and settle its pay.
    Returns (submission id, error rate, accepted) per transcript. Late transcripts are
    scored too but hold no ledger entry, so ``settle_submission`` leaves them unpaid."""
    submissions = session.scalars(
        select(Submission)
        .where(Submission.clip_id == clip.id, Submission.is_gold.is_(False))
        .order_by(Submission.id)
    ).all()
    settled = []
    for submission in submissions:
        rate = error_rate(final_text, submission.text, clip.language)
        submission.error_vs_final = rate
        accepted = is_accepted(rate, threshold)
        settle_submission(session, submission.id, accepted, card, now)
        settled.append((submission.id, rate, accepted))
    session.flush()
    return settled


def credit_unscored(session: Session, clip: Clip, card: RateCard, now: datetime) -> int:
    """Credit every transcript of ``clip`` in full without scoring it; returns how many. For a
    clip found unusable (nobody's fault) and for one accepted on a single transcript (its text
    is the final text, so scoring it would only confirm itself in the writer's track record)."""
    submissions = session.scalars(
        select(Submission).where(Submission.clip_id == clip.id, Submission.is_gold.is_(False))
    ).all()
    for submission in submissions:
        settle_submission(session, submission.id, True, card, now)
    session.flush()
    return len(submissions)


def score_gold_submission(
    session: Session,
    submission: Submission,
    reference_text: str,
    threshold: float,
    card: RateCard,
    now: datetime,
) -> float:
    """Score a gold transcript against the coordinator's reference and settle it the same way."""
    clip = session.get(Clip, submission.clip_id)
    rate = error_rate(reference_text, submission.text, clip.language)
    submission.error_vs_final = rate
    settle_submission(session, submission.id, is_accepted(rate, threshold), card, now)
    return rate
