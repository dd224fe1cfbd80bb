"""What a person does with a clip they hold besides submitting it: renew the lease, skip the
clip, stream its audio.

A slot stays with its holder until somebody else claims it. Each write runs in the caller's
session and commits it before returning: on SQLite the write lock must not stay held while a
web worker waits for a thread to run the session's teardown.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdscribe.clock import utc_now
from crowdscribe.errors import Conflict, Forbidden, InvalidInput, LeaseExpired, NotFound
from crowdscribe.storage.models import ExamAttempt
from crowdscribe.storage.states import AssignmentState
from transcribe.dispatch import statements as sql
from transcribe.dispatch.rules import A, C
from transcribe.dispatch.sequences import held_by
from transcribe.dispatch.writes import begin_session_write
from transcribe.stuck import STUCK_REASONS, withdraw_if_stuck

SKIP_REASONS = ("bad_audio", "wrong_language", "empty", "other")


def _held(session: Session, assignment_id: str, user_id: int):
    read = {"p_assignment": assignment_id, "p_request": ""}
    return held_by(session.connection().execute(sql.HELD, read).first(), assignment_id, user_id)


def renew_lease(
    session: Session, assignment_id: str, user_id: int, now: datetime, lease_s: float
) -> datetime:
    """Extend (and commit) a lease the person still holds to ``now + lease_s``; LeaseExpired if
    the slot went to someone else meanwhile."""
    row = _held(session, assignment_id, user_id)
    if row.submission_id is not None or row.state == AssignmentState.SUBMITTED:
        raise Conflict(f"You already submitted clip {row.clip_id}; there is nothing to renew.")
    if row.state == AssignmentState.SKIPPED:
        raise Conflict(f"You skipped clip {row.clip_id}; there is nothing to renew.")
    expires = utc_now(now) + timedelta(seconds=lease_s)
    values = {"p_assignment": assignment_id, "p_item": row.work_item_id, "p_expires": expires}
    begin_session_write(session)
    if not row.is_gold and session.execute(sql.RENEW_SLOT, values).rowcount != 1:
        session.rollback()
        raise LeaseExpired(
            f"Your lease on clip {row.clip_id} ran out and someone else took the slot; "
            "you can still submit, but the text will not count."
        )
    session.execute(sql.RENEW_ASSIGNMENT, values)
    session.commit()
    return expires


def skip_assignment(
    session: Session, assignment_id: str, user_id: int, reason: str, now: datetime
) -> None:
    """Give a clip back (bad audio, wrong language, empty, other) and commit: the slot reopens
    for someone else and this person never gets that clip again."""
    if reason not in SKIP_REASONS:
        raise InvalidInput(f"skip reason must be one of {', '.join(SKIP_REASONS)}, not {reason!r}")
    row = _held(session, assignment_id, user_id)
    if row.state == AssignmentState.SKIPPED:
        return
    if row.state == AssignmentState.SUBMITTED:
        raise Conflict(f"You already submitted clip {row.clip_id}; it cannot be skipped now.")
    values = {
        "p_assignment": assignment_id,
        "p_item": row.work_item_id,
        "p_reason": reason,
        "p_now": utc_now(now),
    }
    begin_session_write(session)
    # Slot first, then the assignment: a submit locks them in that order too. A submit that
    # got in first leaves the assignment unskippable, and this skip is undone and refused.
    if not row.is_gold:
        session.execute(sql.REOPEN_SLOT, values)
    if session.execute(sql.MARK_SKIPPED, values).rowcount != 1:
        session.rollback()
        raise Conflict(f"You already submitted clip {row.clip_id}; it cannot be skipped now.")
    session.commit()
    if reason in STUCK_REASONS:
        withdraw_if_stuck(session, row.clip_id, now)


def held_clip_path(session: Session, user_id: int, clip_id: str) -> str:
    """The clip's stored audio path (relative to the data home), only for a person holding it:
    a lease nobody else has taken over, or a clip in their unfinished exam."""
    audio_path = session.scalar(select(C.c.audio_path).where(C.c.id == clip_id))
    if audio_path is None:
        raise NotFound(f"there is no clip {clip_id}")
    holds = session.scalar(
        select(A.c.id).where(
            A.c.clip_id == clip_id, A.c.user_id == user_id, A.c.state == AssignmentState.LEASED
        )
    )
    if holds is not None:
        return audio_path
    open_exams = session.scalars(
        select(ExamAttempt.clip_ids).where(
            ExamAttempt.user_id == user_id, ExamAttempt.finished_at.is_(None)
        )
    )
    if any(clip_id in (clip_ids or ()) for clip_ids in open_exams):
        return audio_path
    raise Forbidden(f"You do not hold clip {clip_id}; claim it before listening to it.")
