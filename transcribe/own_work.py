"""A transcriber's own work: the clip they hold now and what they submitted lately, with its pay."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdscribe.storage.models import Assignment, Clip, LedgerEntry, Submission
from crowdscribe.storage.states import AssignmentState


def held_assignment(session: Session, user_id: int, now: datetime) -> Assignment | None:
    """The assignment whose lease the person holds at ``now``, if any (to offer "continue")."""
    return session.scalars(
        select(Assignment).where(
            Assignment.user_id == user_id,
            Assignment.state == AssignmentState.LEASED,
            Assignment.lease_expires_at > now,
        )
    ).first()


def recent_submissions(
    session: Session, user_id: int, *, limit: int = 50
) -> list[tuple[Submission, Clip, LedgerEntry | None]]:
    """The person's latest submissions, newest first, each with its clip and ledger entry."""
    rows = session.execute(
        select(Submission, Clip, LedgerEntry)
        .join(Clip, Clip.id == Submission.clip_id)
        .outerjoin(LedgerEntry, LedgerEntry.submission_id == Submission.id)
        .where(Submission.user_id == user_id)
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(limit)
    ).all()
    return [(submission, clip, entry) for submission, clip, entry in rows]
