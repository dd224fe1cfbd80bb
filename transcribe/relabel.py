"""Correcting a campaign: a recording (or clip) labelled with the wrong speaker group or language.

Clips not yet transcribed are simply re-priced (and their open slots moved to the new language).
Work already in the ledger is never edited once decided: a credited or discounted entry gets an
adjustment entry for the difference, with the reason (``transcribe.ledger.record_adjustment``,
the same entry an upheld appeal makes). A pending entry is not owed yet, so it
takes the new price, as settling will decide from it.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from crowdscribe.clock import utc_now
from crowdscribe.errors import InvalidInput, NotFound
from crowdscribe.languages import check_language, check_speaker_group
from crowdscribe.storage.models import Clip, LedgerEntry, Recording, WorkItem
from crowdscribe.storage.states import LedgerKind, LedgerState, SlotState
from transcribe.dispatch.writes import begin_session_write
from transcribe.ledger import record_adjustment, work_total
from transcribe.pricing import RateCard, price_clip, rejected_amount
from transcribe.publish_plan import project_terms


@dataclass(frozen=True)
class RelabelSummary:
    """What a correction changed: clips relabelled and re-priced, entries re-priced while
    pending, adjustments added, and their total per currency."""

    clips: int
    repriced: int
    pending_repriced: int
    adjustments: int
    adjusted: dict[str, Decimal]

    def to_dict(self) -> dict:
        return {
            "clips": self.clips,
            "repriced": self.repriced,
            "pending_repriced": self.pending_repriced,
            "adjustments": self.adjustments,
            "adjusted": {currency: str(amount) for currency, amount in self.adjusted.items()},
        }


def find_recording(session: Session, source: str) -> Recording:
    """The recording collected from ``source`` (as given to collect, or its absolute path)."""
    resolved = str(Path(source).expanduser().resolve())
    found = session.scalars(
        select(Recording).where(or_(Recording.source == source, Recording.source_path == resolved))
    ).all()
    if not found:
        sources = list(session.scalars(select(Recording.source)))
        guesses = difflib.get_close_matches(source, sources, n=2, cutoff=0.8)
        hint = f"did you mean {' or '.join(guesses)}? " if guesses else ""
        raise NotFound(f"no recording {source!r} was collected; {hint}see `crowdscribe recordings`")
    if len(found) > 1:
        raise InvalidInput(f"{source!r} names {len(found)} recordings; give its full path")
    return found[0]


def relabel_recording(
    session: Session,
    source: str,
    *,
    speaker_group: str | None,
    language: str | None,
    reason: str,
    rates_file: Path | None,
    default_overlap: int,
    now: datetime,
) -> RelabelSummary:
    """Give a recording and all its clips a new speaker group and/or language, re-pricing them."""
    recording = find_recording(session, source)
    group = check_speaker_group(speaker_group) if speaker_group else recording.speaker_group
    code = check_language(language) if language else recording.language
    recording.speaker_group, recording.language = group, code
    clip_ids = list(session.scalars(select(Clip.id).where(Clip.recording_id == recording.id)))
    return relabel_clips(
        session,
        clip_ids,
        speaker_group=group,
        language=code,
        reason=reason,
        rates_file=rates_file,
        default_overlap=default_overlap,
        now=now,
    )


def relabel_clips(
    session: Session,
    clip_ids: list[str],
    *,
    speaker_group: str | None,
    language: str | None,
    reason: str,
    rates_file: Path | None,
    default_overlap: int,
    now: datetime,
) -> RelabelSummary:
    """Relabel clips one by one: new labels, new price for what is not yet decided, and an
    adjustment entry for each person's decided work whose amount changes."""
    if not reason.strip():
        raise InvalidInput("a correction needs --reason, kept with every adjustment it makes")
    group = check_speaker_group(speaker_group) if speaker_group else None
    code = check_language(language) if language else None
    now = utc_now(now)
    begin_session_write(session)
    cards: dict[str, RateCard] = {}
    repriced = pending = adjustments = 0
    adjusted: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for clip in session.scalars(select(Clip).where(Clip.id.in_(clip_ids)).order_by(Clip.id)):
        clip.speaker_group = group or clip.speaker_group
        clip.language = code or clip.language
        clip.relabelled_at = now
        session.execute(
            update(WorkItem)
            .where(
                WorkItem.clip_id == clip.id,
                WorkItem.state.in_((SlotState.OPEN, SlotState.WITHDRAWN)),
            )
            .values(language=clip.language)
        )
        if clip.price is None:
            continue  # not published yet: dispatch prices it with the new labels
        if clip.project not in cards:
            cards[clip.project] = project_terms(
                session,
                clip.project,
                overlap=None,
                default_overlap=default_overlap,
                rates_file=rates_file,
            ).card
        card = cards[clip.project]
        clip.price = price_clip(clip.duration_s, clip.language, clip.speaker_group, card)
        clip.currency = card.currency
        repriced += 1
        pending += _reprice_pending(session, clip.id, clip.price)
        for entry in _adjust_decided(session, clip, card, reason.strip(), now):
            adjustments += 1
            adjusted[entry.currency] += entry.amount
    session.flush()
    return RelabelSummary(len(clip_ids), repriced, pending, adjustments, dict(adjusted))


def _reprice_pending(session: Session, clip_id: str, price: Decimal) -> int:
    result = session.execute(
        update(LedgerEntry)
        .where(
            LedgerEntry.clip_id == clip_id,
            LedgerEntry.state == LedgerState.PENDING,
            LedgerEntry.kind == LedgerKind.ACCRUAL,
        )
        .values(amount=price)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _adjust_decided(
    session: Session, clip: Clip, card: RateCard, reason: str, now: datetime
) -> list[LedgerEntry]:
    """One adjustment (``record_adjustment``) for each decided accrual of this clip whose work
    does not pay what the new price makes it, earlier adjustments included, so relabelling twice
    adjusts once. Work paid in full (credited, or discounted and then credited by an upheld
    appeal) is due the full price; discounted work the rejected share of it."""
    accruals = session.scalars(
        select(LedgerEntry)
        .where(
            LedgerEntry.clip_id == clip.id,
            LedgerEntry.kind == LedgerKind.ACCRUAL,
            LedgerEntry.state.in_((LedgerState.CREDITED, LedgerState.DISCOUNTED)),
        )
        .order_by(LedgerEntry.id)
    ).all()
    credited_later = set(
        session.scalars(
            select(LedgerEntry.adjusts_entry_id).where(
                LedgerEntry.clip_id == clip.id,
                LedgerEntry.kind == LedgerKind.ADJUSTMENT,
                LedgerEntry.state == LedgerState.CREDITED,
            )
        )
    )
    added = []
    for entry in accruals:
        in_full = entry.state == LedgerState.CREDITED or entry.id in credited_later
        full = Decimal(clip.price)
        due = full if in_full else rejected_amount(full, card)
        difference = due - work_total(session, entry.id)
        if difference == 0:
            continue
        state = LedgerState.CREDITED if in_full else LedgerState.DISCOUNTED
        added.append(
            record_adjustment(session, entry.id, difference, reason=reason, now=now, state=state)
        )
    return added
