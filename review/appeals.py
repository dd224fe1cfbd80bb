"""Appeals: a transcriber contests the verdict on a discounted transcript, once, with a note; a
reviewer upholds or rejects it with a short comment the transcriber reads. An upheld appeal
credits the difference to the full price as a new ledger entry (``record_adjustment``); the
discounted entry stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crowdscribe.errors import Conflict, Forbidden, InvalidInput, NotFound
from crowdscribe.storage.models import Appeal, Clip, GoldClip, LedgerEntry, Submission, User
from crowdscribe.storage.states import AppealState, LedgerState
from review.feedback import Verdict, verdict_of
from transcribe.ledger import appeal_credit, record_adjustment, work_total

MAX_NOTE_CHARS = 500
MAX_COMMENT_CHARS = 500


@dataclass(frozen=True)
class AppealCase:
    """An open appeal as a reviewer sees it: the verdict (gold reference shown), who, the note."""

    id: int
    transcriber: str
    note: str
    created_at: datetime
    verdict: Verdict

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            **self.verdict.to_dict(),
            "transcriber": self.transcriber,
            "note": self.note,
            "created_at": self.created_at.isoformat(),
        }


def checked_text(text: str, *, limit: int, what: str, required: bool) -> str:
    """``text`` trimmed, refused when empty (if required) or longer than ``limit``."""
    text = text.strip()
    if required and not text:
        raise InvalidInput(f"Write a short {what} saying why.")
    if len(text) > limit:
        raise InvalidInput(f"The {what} is {len(text)} characters long; keep it to {limit}.")
    return text


def file_appeal(
    session: Session, user_id: int, submission_id: int, note: str, now: datetime
) -> Appeal:
    """Contest the verdict on one's own discounted transcript, once."""
    note = checked_text(note, limit=MAX_NOTE_CHARS, what="note", required=True)
    submission = session.get(Submission, submission_id)
    if submission is None or submission.user_id != user_id:
        raise NotFound("You have no transcript with that number.")
    state = session.scalar(
        select(LedgerEntry.state).where(LedgerEntry.submission_id == submission_id)
    )
    if state != LedgerState.DISCOUNTED:
        raise Conflict("Only a transcript paid at the reduced rate can be appealed.")
    if session.scalar(select(Appeal.id).where(Appeal.submission_id == submission_id)):
        raise Conflict("You already appealed this verdict; each verdict can be appealed once.")
    appeal = Appeal(
        submission_id=submission_id,
        user_id=user_id,
        note=note,
        state=AppealState.OPEN,
        created_at=now,
    )
    session.add(appeal)
    session.flush()
    return appeal


def appeal_queue(session: Session, *, limit: int = 100) -> list[AppealCase]:
    """Open appeals, oldest first, for reviewers (gold references included: reviewers judge)."""
    rows = session.execute(
        select(Appeal, Submission, Clip, LedgerEntry, User.name, GoldClip.reference_text)
        .join(Submission, Submission.id == Appeal.submission_id)
        .join(Clip, Clip.id == Submission.clip_id)
        .join(LedgerEntry, LedgerEntry.submission_id == Submission.id)
        .join(User, User.id == Appeal.user_id)
        .outerjoin(GoldClip, GoldClip.clip_id == Clip.id)
        .where(Appeal.state == AppealState.OPEN)
        .order_by(Appeal.created_at, Appeal.id)
        .limit(limit)
    ).all()
    return [
        AppealCase(
            id=appeal.id,
            transcriber=name,
            note=appeal.note,
            created_at=appeal.created_at,
            verdict=verdict_of(entry, submission, clip, reference=reference or ""),
        )
        for appeal, submission, clip, entry, name, reference in rows
    ]


def decide_appeal(
    session: Session,
    appeal_id: int,
    reviewer_id: int,
    *,
    uphold: bool,
    comment: str,
    now: datetime,
) -> Appeal:
    """Uphold (credit the difference as a ledger adjustment) or reject an open appeal; the first
    decision stands."""
    comment = checked_text(comment, limit=MAX_COMMENT_CHARS, what="comment", required=False)
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(f"There is no appeal {appeal_id}.")
    reviewer = session.get(User, reviewer_id)
    if reviewer is None or "reviewer" not in reviewer.roles.split(","):
        raise Forbidden("Only reviewers decide appeals.")
    if appeal.user_id == reviewer_id:
        raise Forbidden("This is your own appeal; another reviewer must decide it.")
    state = AppealState.UPHELD if uphold else AppealState.REJECTED
    # The conditional update is the guard against two reviewers deciding it at once.
    moved = session.execute(
        update(Appeal)
        .where(Appeal.id == appeal_id, Appeal.state == AppealState.OPEN)
        .values(state=state, reviewer_id=reviewer_id, comment=comment or None, decided_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict(f"Appeal {appeal_id} is already decided; the first decision stands.")
    session.refresh(appeal)
    if uphold:
        entry = session.scalar(
            select(LedgerEntry).where(LedgerEntry.submission_id == appeal.submission_id)
        )
        clip = session.get(Clip, entry.clip_id)
        paid = work_total(session, entry.id)
        credit = appeal_credit(Decimal(clip.price or entry.amount), paid)
        if credit > 0:
            appeal.adjustment_id = record_adjustment(
                session,
                entry.id,
                credit,
                reason=f"appeal {appeal.id} upheld",
                now=now,
                state=LedgerState.CREDITED,
            ).id
    session.flush()
    return appeal
