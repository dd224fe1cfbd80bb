"""What waits for a person, per language: clips a claim could give them now, and their pay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from transcribe.dispatch import statements as sql

CENT = Decimal("0.01")


@dataclass(frozen=True)
class WorkOffer:
    """Work waiting in one language for one person: how much, and what it pays."""

    language: str
    open_clips: int
    price_per_clip: Decimal | None
    rate_per_minute: Decimal | None
    currency: str | None

    def to_dict(self) -> dict:
        return {
            "language": self.language,
            "open_clips": self.open_clips,
            "price_per_clip": None if self.price_per_clip is None else str(self.price_per_clip),
            "rate_per_minute": None if self.rate_per_minute is None else str(self.rate_per_minute),
            "currency": self.currency,
        }


def work_overview(session: Session, user_id: int, now: datetime) -> list[WorkOffer]:
    """For each language the person is qualified in: the clips they could claim at ``now`` (by
    the claim's own rules) and what they pay."""
    values = {"p_user_id": user_id, "p_language": None, "p_now": now}
    languages = sorted(row.language for row in session.execute(sql.QUALIFIED, values))
    if not languages:
        return []
    by_language = {row.language: row for row in session.execute(sql.OVERVIEW, values)}
    offers = []
    for language in languages:
        row = by_language.get(language)
        if row is None or not row.clips:
            offers.append(WorkOffer(language, 0, None, None, None))
            continue
        total = Decimal(row.price)
        per_clip = (total / row.clips).quantize(CENT, rounding=ROUND_HALF_UP)
        per_minute = (total * 60 / Decimal(str(row.duration_s))).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
        offers.append(WorkOffer(language, row.clips, per_clip, per_minute, row.currency))
    return offers
