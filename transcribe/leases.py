"""What a person does with a clip they hold: renew the lease, submit the transcript, skip it,
and stream its audio.

A slot stays with its holder until somebody else claims it: text typed past the lease still
counts if the slot was not taken meanwhile; otherwise it is kept as ``late`` (not counted, not
paid). Each write runs in the caller's session and commits it before returning: the answer
must never promise a transcript that is not stored, and on SQLite the write lock must not stay
held while a web worker waits for a thread to run the session's teardown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from crowdscribe.storage.models import Assignment, Clip, ExamAttempt, Submission, WorkItem
from transcribe.conventions import check_transcript
from transcribe.errors import Conflict, Forbidden, InvalidInput, LeaseExpired, NotFound
from transcribe.ledger import accrue
from transcribe.transactions import begin_session_write, utc_now

SKIP_REASONS = ("bad_audio", "wrong_language", "empty", "other")
_W = WorkItem.__table__
_A = Assignment.__table__
_S = Submission.__table__
_C = Clip.__table__


@dataclass(frozen=True)
class Receipt:
    """Proof a transcript was stored: ``counted`` fills a slot (and is paid), ``late`` does not."""

    submission_id: int
    status: str
    duplicate: bool
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


# Built once: these run for every transcript anyone submits.
_HELD = (
    select(
        _A.c.user_id,
        _A.c.state,
        _A.c.work_item_id,
        _A.c.is_gold,
        _A.c.clip_id,
        _C.c.language,
        _C.c.price,
        _C.c.currency,
        _S.c.id.label("submission_id"),
        _S.c.request_id,
        _S.c.status.label("submission_status"),
        select(_S.c.assignment_id)
        .where(_S.c.request_id == bindparam("p_request"))
        .scalar_subquery()
        .label("request_used_for"),
    )
    .join(_C, _C.c.id == _A.c.clip_id)
    .outerjoin(_S, _S.c.assignment_id == _A.c.id)
    .where(_A.c.id == bindparam("p_assignment"))
)
_CLOSE_SLOT = (
    update(_W)
    .where(
        _W.c.id == bindparam("p_item"),
        _W.c.assignment_id == bindparam("p_assignment"),
        _W.c.state == "leased",
    )
    .values(state="done", lease_expires_at=None)
)
_MARK_SUBMITTED = (
    update(_A)
    .where(_A.c.id == bindparam("p_assignment"), _A.c.state.in_(("leased", "expired")))
    .values(state="submitted", finished_at=bindparam("p_now"))
)
_NEW_SUBMISSION = insert(_S).returning(_S.c.id)
# PostgreSQL: mark the assignment and store the text in one round trip (SQLite runs the two
# statements above, in process). No row back: the assignment was no longer ours to submit (a
# retry or a skip won the race). The slot is closed before, in its own statement, so submit
# locks the work item before the assignment as a claim does; in one WITH the two updates run
# in no fixed order, and that deadlocked against claims taking over the expired slot.
_STORE_SUBMISSION_PG = text(
    """
    WITH mine AS (
        UPDATE assignments SET state = 'submitted', finished_at = :p_now
        WHERE id = :p_assignment AND state IN ('leased', 'expired')
        RETURNING id
    )
    INSERT INTO submissions
        (assignment_id, clip_id, user_id, text, request_id, status, is_gold, created_at)
    SELECT mine.id, :p_clip, :p_user, :p_text, :p_request, :p_status, :p_gold, :p_now
    FROM mine
    RETURNING id, status
    """
)


def _held_assignment(session: Session, assignment_id: str, user_id: int, request_id: str = ""):
    row = (
        session.connection()
        .execute(_HELD, {"p_assignment": assignment_id, "p_request": request_id})
        .first()
    )
    if row is None or row.user_id != user_id:
        raise NotFound(f"You hold no assignment {assignment_id}; claim a clip first.")
    return row


def _receipt(submission_id: int, status: str, clip_id: str, duplicate: bool) -> Receipt:
    again = " (this request was already received)" if duplicate else ""
    if status == "counted":
        message = (
            f"Saved{again}: your transcript of clip {clip_id} counts (receipt {submission_id})."
        )
    else:
        message = (
            f"Saved but NOT counted{again}: your lease on clip {clip_id} ran out and someone "
            f"else took the slot, so this transcript is kept (receipt {submission_id}) but "
            "will not be paid."
        )
    return Receipt(submission_id, status, duplicate, message)


def _earlier_submission(row, request_id: str, clip_id: str) -> Receipt:
    if row.request_id != request_id:
        raise Conflict(
            f"You already submitted clip {clip_id} (receipt {row.submission_id}); "
            "the first transcript stands."
        )
    return _receipt(row.submission_id, row.submission_status, clip_id, duplicate=True)


def submit_transcript(
    session: Session,
    assignment_id: str,
    user_id: int,
    text: str,
    request_id: str,
    now: datetime,
) -> Receipt:
    """Store and commit a person's transcript once per ``request_id`` (a retry returns the same
    receipt); a counted one accrues the clip's price in the ledger."""
    if not request_id or len(request_id) > 64:
        raise InvalidInput("request_id must be 1 to 64 characters, the same on every retry")
    now = utc_now(now)
    row = _held_assignment(session, assignment_id, user_id, request_id)
    if row.submission_id is not None:
        return _earlier_submission(row, request_id, row.clip_id)
    if row.request_used_for is not None:
        raise Conflict(f"request_id {request_id!r} was already used for another clip")
    if row.state == "skipped":
        raise Conflict(f"You skipped clip {row.clip_id}; it cannot be submitted any more.")
    clean = check_transcript(text, row.language)
    begin_session_write(session)
    stored = _store_submission(
        session.connection(), row, assignment_id, user_id, clean, request_id, now
    )
    if stored is None:
        # Lost a race with our own retry (or a skip): answer as the winner did.
        again = _held_assignment(session, assignment_id, user_id, request_id)
        session.rollback()
        if again.submission_id is not None:
            return _earlier_submission(again, request_id, row.clip_id)
        raise Conflict(f"You skipped clip {row.clip_id}; it cannot be submitted any more.")
    submission_id, status = stored
    if status == "counted" and row.price is not None:
        accrue(session, submission_id, user_id, row.clip_id, Decimal(row.price), row.currency, now)
    session.commit()
    return _receipt(submission_id, status, row.clip_id, duplicate=False)


def _store_submission(
    connection: Connection,
    row,
    assignment_id: str,
    user_id: int,
    clean: str,
    request_id: str,
    now: datetime,
) -> tuple[int, str] | None:
    # The slot is still ours (even past the lease) as long as nobody else claimed it: closing
    # it makes the text count; a gold clip has no slot and always counts.
    counted = row.is_gold or (
        connection.execute(
            _CLOSE_SLOT, {"p_item": row.work_item_id, "p_assignment": assignment_id}
        ).rowcount
        == 1
    )
    status = "counted" if counted else "late"
    if connection.dialect.name == "postgresql":
        stored = connection.execute(
            _STORE_SUBMISSION_PG,
            {
                "p_assignment": assignment_id,
                "p_now": now,
                "p_clip": row.clip_id,
                "p_user": user_id,
                "p_text": clean,
                "p_request": request_id,
                "p_status": status,
                "p_gold": row.is_gold,
            },
        ).first()
        return None if stored is None else (stored.id, stored.status)
    taken = connection.execute(_MARK_SUBMITTED, {"p_assignment": assignment_id, "p_now": now})
    if taken.rowcount != 1:
        return None
    submission_id = connection.execute(
        _NEW_SUBMISSION,
        {
            "assignment_id": assignment_id,
            "clip_id": row.clip_id,
            "user_id": user_id,
            "text": clean,
            "request_id": request_id,
            "status": status,
            "is_gold": row.is_gold,
            "error_vs_final": None,
            "created_at": now,
        },
    ).scalar_one()
    return submission_id, status


def renew_lease(
    session: Session, assignment_id: str, user_id: int, now: datetime, lease_s: float
) -> datetime:
    """Extend (and commit) a lease the person still holds to ``now + lease_s``; LeaseExpired if
    the slot went to someone else meanwhile."""
    now = utc_now(now)
    row = _held_assignment(session, assignment_id, user_id)
    if row.submission_id is not None or row.state == "submitted":
        raise Conflict(f"You already submitted clip {row.clip_id}; there is nothing to renew.")
    if row.state == "skipped":
        raise Conflict(f"You skipped clip {row.clip_id}; there is nothing to renew.")
    expires = now + timedelta(seconds=lease_s)
    begin_session_write(session)
    if not row.is_gold:
        slot = session.execute(
            update(_W)
            .where(
                _W.c.id == row.work_item_id,
                _W.c.assignment_id == assignment_id,
                _W.c.state == "leased",
            )
            .values(lease_expires_at=expires)
        )
        if slot.rowcount != 1:
            session.rollback()
            raise LeaseExpired(
                f"Your lease on clip {row.clip_id} ran out and someone else took the slot; "
                "you can still submit, but the text will not count."
            )
    session.execute(
        update(_A)
        .where(_A.c.id == assignment_id, _A.c.state == "leased")
        .values(lease_expires_at=expires)
    )
    session.commit()
    return expires


def skip_assignment(
    session: Session, assignment_id: str, user_id: int, reason: str, now: datetime
) -> None:
    """Give a clip back (bad audio, wrong language, empty, other) and commit: the slot reopens
    for someone else and this person never gets that clip again."""
    if reason not in SKIP_REASONS:
        raise InvalidInput(f"skip reason must be one of {', '.join(SKIP_REASONS)}, not {reason!r}")
    now = utc_now(now)
    row = _held_assignment(session, assignment_id, user_id)
    if row.state == "skipped":
        return
    if row.state == "submitted":
        raise Conflict(f"You already submitted clip {row.clip_id}; it cannot be skipped now.")
    begin_session_write(session)
    if not row.is_gold:
        session.execute(
            update(_W)
            .where(
                _W.c.id == row.work_item_id,
                _W.c.assignment_id == assignment_id,
                _W.c.state == "leased",
            )
            .values(state="open", assignment_id=None, lease_expires_at=None)
        )
    session.execute(
        update(_A)
        .where(_A.c.id == assignment_id, _A.c.state.in_(("leased", "expired")))
        .values(state="skipped", skip_reason=reason, finished_at=now)
    )
    session.commit()


def held_clip_path(session: Session, user_id: int, clip_id: str) -> str:
    """The clip's stored audio path (relative to the data home), only for a person holding it:
    a lease nobody else has taken over, or a clip in their unfinished exam."""
    audio_path = session.scalar(select(_C.c.audio_path).where(_C.c.id == clip_id))
    if audio_path is None:
        raise NotFound(f"there is no clip {clip_id}")
    holds = session.scalar(
        select(_A.c.id).where(
            _A.c.clip_id == clip_id, _A.c.user_id == user_id, _A.c.state == "leased"
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
