"""Where the pipeline stands, for the coordinator: recordings and clips by status, today's
submissions, open disputes and who is paused."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crowdscribe.storage.models import Clip, Dispute, Qualification, Recording, Submission, User
from crowdscribe.storage.states import ClipStatus, DisputeState, QualificationStatus


def recordings_by_status(session: Session) -> dict[str, int]:
    """How many recordings ended in each status."""
    query = select(Recording.status, func.count()).group_by(Recording.status)
    return dict(session.execute(query).all())


def clip_progress(session: Session) -> tuple[list[str], list[dict]]:
    """Clips counted by status for each (language, project), with the statuses that occur in
    pipeline order (so the table reads left to right)."""
    table: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    rows = session.execute(
        select(Clip.language, Clip.project, Clip.status, func.count()).group_by(
            Clip.language, Clip.project, Clip.status
        )
    )
    seen: set[str] = set()
    for language, project, status, count in rows:
        table[(language, project)][status] = count
        seen.add(status)
    statuses = [s for s in ClipStatus if s in seen] + sorted(seen - set(ClipStatus))
    return statuses, [
        {"language": language, "project": project, "counts": counts, "total": sum(counts.values())}
        for (language, project), counts in sorted(table.items())
    ]


def submissions_since(session: Session, since: datetime) -> int:
    """How many transcripts were submitted from ``since`` on."""
    query = select(func.count()).select_from(Submission).where(Submission.created_at >= since)
    return session.scalar(query) or 0


def open_dispute_count(session: Session) -> int:
    """How many disputes wait for a reviewer."""
    query = select(func.count()).select_from(Dispute).where(Dispute.state == DisputeState.OPEN)
    return session.scalar(query) or 0


def paused_people(session: Session) -> list[dict]:
    """Everyone paused in a language, with the reason they were given."""
    rows = session.execute(
        select(User.name, Qualification.language, Qualification.reason, Qualification.since)
        .join(User, User.id == Qualification.user_id)
        .where(Qualification.status == QualificationStatus.PAUSED)
        .order_by(User.name, Qualification.language)
    )
    return [
        {"name": name, "language": language, "reason": reason, "since": since}
        for name, language, reason, since in rows
    ]
