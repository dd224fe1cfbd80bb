"""What must hold of dispatch however requests were retried, workers died or connections
dropped, checked from the database and from what clients were told: every acknowledged
submission stored exactly once, no clip over its overlap, nobody twice on a clip, and the
ledger equal to the counted work. Each check returns its findings (empty when it holds), in
words an operator can follow up; the load bench and its test share them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crowdscribe.storage.models import Assignment, Clip, LedgerEntry, Submission, WorkItem
from crowdscribe.storage.states import AssignmentState, SubmissionStatus
from transcribe.ledger import earnings_for

ZERO = Decimal("0")


@dataclass(frozen=True)
class Acknowledged:
    """A submission a client was answered 201 for: who sent it, for which assignment, under
    which request id, and the receipt it was given."""

    user_id: int
    assignment_id: str
    request_id: str
    submission_id: int


def acknowledged_stored_once(session: Session, acknowledged: Iterable[Acknowledged]) -> list[str]:
    """Every acknowledged submission is one stored row with the receipt, person, assignment
    and request id the client was told, and one receipt was never given for two requests."""
    told = list(acknowledged)
    findings = []
    by_receipt: dict[int, set[tuple[int, str, str]]] = defaultdict(set)
    for ack in told:
        by_receipt[ack.submission_id].add((ack.user_id, ack.assignment_id, ack.request_id))
    for receipt, claims in sorted(by_receipt.items()):
        if len(claims) > 1:
            findings.append(f"receipt {receipt} was given for {len(claims)} different requests")
    rows = {
        row.id: row
        for chunk in _chunks(sorted(by_receipt), 5000)
        for row in session.execute(
            select(
                Submission.id, Submission.user_id, Submission.assignment_id, Submission.request_id
            ).where(Submission.id.in_(chunk))
        )
    }
    for receipt, claims in sorted(by_receipt.items()):
        row = rows.get(receipt)
        if row is None:
            findings.append(f"receipt {receipt} was acknowledged but no submission is stored")
            continue
        for user_id, assignment_id, request_id in claims:
            if (row.user_id, row.assignment_id, row.request_id) != (
                user_id,
                assignment_id,
                request_id,
            ):
                findings.append(
                    f"receipt {receipt} is stored for person {row.user_id}, assignment "
                    f"{row.assignment_id}, request {row.request_id!r}; the client was told "
                    f"person {user_id}, assignment {assignment_id}, request {request_id!r}"
                )
    repeated = session.execute(
        select(Submission.user_id, Submission.request_id, func.count())
        .group_by(Submission.user_id, Submission.request_id)
        .having(func.count() > 1)
    ).all()
    findings += [f"person {u} has {n} submissions under request {r!r}" for u, r, n in repeated]
    per_assignment = session.execute(
        select(Submission.assignment_id, func.count())
        .group_by(Submission.assignment_id)
        .having(func.count() > 1)
    ).all()
    findings += [f"assignment {a} has {n} submissions" for a, n in per_assignment]
    return findings


def clips_within_overlap(session: Session) -> list[str]:
    """No clip has more counted (non-gold) submissions, or more assignments leased or
    submitted with a counted text on its slots, than it has slots; a finished slot has exactly
    one counted text."""
    slots = dict(
        session.execute(select(WorkItem.clip_id, func.count()).group_by(WorkItem.clip_id)).all()
    )
    counted = session.execute(
        select(Submission.clip_id, func.count())
        .where(Submission.status == SubmissionStatus.COUNTED, Submission.is_gold.is_(False))
        .group_by(Submission.clip_id)
    ).all()
    findings = [
        f"clip {clip} has {n} counted transcripts for {slots.get(clip, 0)} slots"
        for clip, n in counted
        if n > slots.get(clip, 0)
    ]
    # A text sent after the lease was taken over is stored as late and holds no slot.
    counted_text = (Submission.assignment_id == Assignment.id) & (
        Submission.status == SubmissionStatus.COUNTED
    )
    holding = session.execute(
        select(Assignment.clip_id, func.count())
        .join(Submission, counted_text, isouter=True)
        .where(
            Assignment.work_item_id.is_not(None),
            (Assignment.state == AssignmentState.LEASED)
            | ((Assignment.state == AssignmentState.SUBMITTED) & Submission.id.is_not(None)),
        )
        .group_by(Assignment.clip_id)
    ).all()
    findings += [
        f"clip {clip} is held or done by {n} people for {slots.get(clip, 0)} slots"
        for clip, n in holding
        if n > slots.get(clip, 0)
    ]
    done = session.execute(
        select(WorkItem.id, WorkItem.clip_id, func.count(Submission.id))
        .join(Assignment, Assignment.work_item_id == WorkItem.id, isouter=True)
        .join(
            Submission,
            (Submission.assignment_id == Assignment.id)
            & (Submission.status == SubmissionStatus.COUNTED),
            isouter=True,
        )
        .where(WorkItem.state == "done")
        .group_by(WorkItem.id, WorkItem.clip_id)
        .having(func.count(Submission.id) != 1)
    ).all()
    findings += [
        f"slot {item} of clip {clip} is done with {n} counted texts" for item, clip, n in done
    ]
    return findings


def nobody_twice_on_a_clip(session: Session) -> list[str]:
    """Nobody holds, or has submitted for, the same clip twice."""
    findings = []
    for model, what in ((Assignment, "assignments"), (Submission, "submissions")):
        twice = session.execute(
            select(model.user_id, model.clip_id, func.count())
            .group_by(model.user_id, model.clip_id)
            .having(func.count() > 1)
        ).all()
        findings += [f"person {u} has {n} {what} on clip {c}" for u, c, n in twice]
    return findings


def ledger_matches_counted_work(session: Session, now: datetime) -> list[str]:
    """Each counted submission of a priced clip has one ledger entry of the clip's price and
    nothing else has one; each person's earnings (``ledger.earnings_for``) total the prices
    of their counted work."""
    findings = []
    entries = Counter(
        session.scalars(
            select(LedgerEntry.submission_id).where(LedgerEntry.submission_id.is_not(None))
        ).all()
    )
    owed: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    rows = session.execute(
        select(
            Submission.id, Submission.user_id, Submission.status, Clip.price, Clip.currency
        ).join(Clip, Clip.id == Submission.clip_id)
    ).all()
    for submission_id, user_id, status, price, currency in rows:
        paid = status == SubmissionStatus.COUNTED and price is not None
        if entries.pop(submission_id, 0) != (1 if paid else 0):
            findings.append(
                f"{status} submission {submission_id} has the wrong number of ledger entries"
            )
        if paid:
            owed[(user_id, currency)] += Decimal(price)
    findings += [f"ledger entry for unknown submission {s}" for s in sorted(entries)]
    people = {user_id for user_id, _ in owed} | set(
        session.scalars(select(LedgerEntry.user_id).distinct()).all()
    )
    currencies = {currency for _, currency in owed} or {None}
    for user_id in sorted(people):
        for currency in sorted(currencies, key=str):
            earnings = earnings_for(session, user_id, now, currency)
            total = earnings.pending + earnings.credited + earnings.discounted
            expected = owed.get((user_id, currency), ZERO).quantize(Decimal("0.01"))
            if total != expected:
                findings.append(
                    f"person {user_id} has {total} {earnings.currency} in the ledger for "
                    f"{expected} of counted work"
                )
    return findings


def dispatch_findings(
    session: Session, acknowledged: Iterable[Acknowledged], now: datetime
) -> dict[str, list[str]]:
    """Every invariant by name with its findings (all empty when dispatch is sound)."""
    return {
        "acknowledged stored once": acknowledged_stored_once(session, acknowledged),
        "within overlap": clips_within_overlap(session),
        "nobody twice on a clip": nobody_twice_on_a_clip(session),
        "ledger = counted work": ledger_matches_counted_work(session, now),
    }


def _chunks(values: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
