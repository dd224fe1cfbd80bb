"""Why a transcript was paid less: the reason in words, and where it differs from the final
text word by word (character by character for Chinese), shown in the characters each side
wrote, not the simplified forms they are compared in (餸 stays 餸).

A gold clip's reference is never shown to transcribers: feedback on a check clip gives its
error rate and the person's own text, without the alignment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdscribe.storage.models import Appeal, Clip, LedgerEntry, Submission
from crowdscribe.storage.states import LedgerState
from review.agreement import Alignment, align
from review.normalize import UNIT_STEPS, fold_case, fold_spellings, fold_width, speech_units
from transcribe.conventions import is_chinese, tokenize
from transcribe.tag_input import fold_tags


@dataclass(frozen=True)
class DiffPiece:
    """One stretch of the alignment: ``equal``, ``substitute`` (the person wrote ``own`` where
    the final has ``final``), ``insert`` (only the person) or ``delete`` (only the final)."""

    kind: str
    own: tuple[str, ...]
    final: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"type": self.kind, "own": list(self.own), "final": list(self.final)}


@dataclass(frozen=True)
class AppealView:
    """An appeal as its author sees it."""

    id: int
    state: str
    note: str
    comment: str | None
    credited: Decimal | None

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "state": self.state,
            "note": self.note,
            "comment": self.comment,
            "credited": None if self.credited is None else str(self.credited),
        }


@dataclass(frozen=True)
class Verdict:
    """The facts of one paid transcript that its author and a reviewer both read: the texts,
    the error rate between them, and the pay against the full price."""

    submission_id: int
    clip_id: str
    language: str
    own_text: str
    final_text: str | None  # None where a gold clip's reference must stay hidden
    error_rate: float | None
    is_gold: bool
    paid: Decimal
    full_price: Decimal
    currency: str
    diff: tuple[DiffPiece, ...]

    def to_dict(self) -> dict:
        return {
            "submission_id": self.submission_id,
            "clip_id": self.clip_id,
            "language": self.language,
            "own_text": self.own_text,
            "final_text": self.final_text,
            "error_rate": self.error_rate,
            "is_gold": self.is_gold,
            "paid": str(self.paid),
            "full_price": str(self.full_price),
            "currency": self.currency,
            "diff": [piece.to_dict() for piece in self.diff],
        }


@dataclass(frozen=True)
class Feedback:
    """A discounted transcript as its author sees it: the verdict, why, and any appeal."""

    verdict: Verdict
    submitted_at: datetime
    reason: str
    appeal: AppealView | None

    def to_dict(self) -> dict:
        return {
            **self.verdict.to_dict(),
            "submitted_at": self.submitted_at.isoformat(),
            "reason": self.reason,
            "appeal": None if self.appeal is None else self.appeal.to_dict(),
        }


def written_units(text: str, language: str) -> tuple[str, ...]:
    """The units a text is compared in, but in the characters and case it was written in."""
    chinese = is_chinese(language)
    # The comparison's steps that keep what was written: no script, spelling or case folding.
    for step in (fold_tags, fold_width):
        text = step(text)
    units, _events = speech_units(tokenize(text))
    for unit_step in UNIT_STEPS:
        if unit_step not in (fold_case, fold_spellings):
            units = unit_step(units, chinese)
    return tuple(units)


def _as_written(compared: tuple[str, ...], text: str, language: str) -> tuple[str, ...]:
    written = written_units(text, language)
    # Script conversion keeps one unit per unit; should it ever not, show the compared form.
    return written if len(written) == len(compared) else compared


def word_diff(final_text: str, own_text: str, language: str) -> tuple[DiffPiece, ...]:
    """The alignment of the person's text against the final text, in written characters."""
    alignment: Alignment = align(final_text, own_text, language)
    final = _as_written(alignment.reference_tokens, final_text, language)
    own = _as_written(alignment.hypothesis_tokens, own_text, language)
    return tuple(
        DiffPiece(
            chunk.type,
            own[chunk.hyp_start_idx : chunk.hyp_end_idx],
            final[chunk.ref_start_idx : chunk.ref_end_idx],
        )
        for chunk in alignment.chunks
    )


def verdict_reason(error_rate: float | None, is_gold: bool, decision: str | None) -> str:
    """Why the transcript was paid at the reduced rate, in a sentence the person can act on."""
    rate = "an unknown amount" if error_rate is None else f"{error_rate:.0%}"
    if is_gold:
        return (
            f"This was a check clip with a known transcript; your text differs from it by "
            f"{rate}, more than the bar, so it was paid at the reduced rate."
        )
    if decision and decision.startswith("consensus"):
        return (
            f"Your text differs by {rate} from the final text the other transcribers agreed "
            "on, more than the bar, so it was paid at the reduced rate."
        )
    return (
        f"Your text differs by {rate} from the final text a reviewer decided, more than the "
        "bar, so it was paid at the reduced rate."
    )


def verdict_of(
    entry: LedgerEntry, submission: Submission, clip: Clip, *, reference: str | None
) -> Verdict:
    """The verdict on ``submission``; ``reference`` is a gold clip's known text for a reviewer,
    None for its author, who never sees it."""
    final_text = reference if submission.is_gold else clip.final_text
    return Verdict(
        submission_id=submission.id,
        clip_id=clip.id,
        language=clip.language,
        own_text=submission.text,
        final_text=final_text,
        error_rate=submission.error_vs_final,
        is_gold=submission.is_gold,
        paid=Decimal(entry.amount),
        full_price=Decimal(clip.price if clip.price is not None else entry.amount),
        currency=entry.currency,
        diff=word_diff(final_text, submission.text, clip.language) if final_text else (),
    )


def _appeal_view(appeal: Appeal | None, session: Session) -> AppealView | None:
    if appeal is None:
        return None
    credited = None
    if appeal.adjustment_id is not None:
        credited = Decimal(session.get(LedgerEntry, appeal.adjustment_id).amount)
    return AppealView(appeal.id, appeal.state, appeal.note, appeal.comment, credited)


def feedback_for(session: Session, user_id: int, *, limit: int = 50) -> list[Feedback]:
    """The person's discounted transcripts, newest first, each with its reason and alignment."""
    rows = session.execute(
        select(LedgerEntry, Submission, Clip, Appeal)
        .join(Submission, Submission.id == LedgerEntry.submission_id)
        .join(Clip, Clip.id == Submission.clip_id)
        .outerjoin(Appeal, Appeal.submission_id == Submission.id)
        .where(LedgerEntry.user_id == user_id, LedgerEntry.state == LedgerState.DISCOUNTED)
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(limit)
    ).all()
    return [
        Feedback(
            verdict=verdict_of(entry, submission, clip, reference=None),
            submitted_at=submission.created_at,
            reason=verdict_reason(submission.error_vs_final, submission.is_gold, clip.decision),
            appeal=_appeal_view(appeal, session),
        )
        for entry, submission, clip, appeal in rows
    ]
