"""Work waiting for one person in each of their languages, before and after the exam: how many
clips, what they pay (the range, and what the next clip opened will pay), and whether the
language's exam can be taken yet (enough gold clips)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from crowdscribe.storage.models import Clip, GoldClip, WorkItem
from transcribe.dispatch.rules import claimable


@dataclass(frozen=True)
class LanguageOffer:
    """Clips waiting in one language for one person, their pay, and the way in."""

    language: str
    open_clips: int
    currency: str | None
    min_price: Decimal | None
    max_price: Decimal | None
    next_price: Decimal | None  # what "Take next clip" opens; None unless qualified
    qualified: bool
    exam_open: bool

    @property
    def price_range(self) -> tuple[Decimal, Decimal] | None:
        """(lowest, highest) pay per clip waiting, or None when nothing waits."""
        if self.min_price is None or self.max_price is None:
            return None
        return self.min_price, self.max_price

    def to_dict(self) -> dict:
        """JSON form: amounts as strings, exact."""

        def amount(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return {
            "language": self.language,
            "open_clips": self.open_clips,
            "currency": self.currency,
            "min_price": amount(self.min_price),
            "max_price": amount(self.max_price),
            "next_price": amount(self.next_price),
            "qualified": self.qualified,
            "exam_open": self.exam_open,
        }


def exam_is_open(gold_clips: int, exam_clips: int) -> bool:
    """An exam can be sat once the language has at least as many gold clips as it asks for."""
    return exam_clips > 0 and gold_clips >= exam_clips


def gold_clip_counts(session: Session, languages: Iterable[str]) -> dict[str, int]:
    """How many gold clips each language has."""
    rows = session.execute(
        select(Clip.language, func.count())
        .join(GoldClip, GoldClip.clip_id == Clip.id)
        .where(Clip.language.in_(list(languages)))
        .group_by(Clip.language)
    )
    return dict(rows.all())


def _waiting_slots(user_id: int, languages: list[str], now: datetime):
    # The claim's own rule (open or run out, published, never had), so offers match claims.
    return and_(WorkItem.language.in_(languages), claimable(user_id, now))


def _next_prices(
    session: Session, user_id: int, languages: list[str], now: datetime
) -> dict[str, Decimal]:
    """Per language, the price of the slot a claim would open now (claim order)."""
    first = (
        select(
            WorkItem.language,
            Clip.price,
            func.row_number()
            .over(partition_by=WorkItem.language, order_by=(WorkItem.claim_rank, WorkItem.id))
            .label("place"),
        )
        .join(Clip, Clip.id == WorkItem.clip_id)
        .where(_waiting_slots(user_id, languages, now))
        .subquery()
    )
    rows = session.execute(select(first.c.language, first.c.price).where(first.c.place == 1))
    return {language: Decimal(price) for language, price in rows if price is not None}


def offers_for(
    session: Session,
    user_id: int,
    languages: Iterable[str],
    qualified: Iterable[str],
    *,
    exam_clips: int,
    now: datetime,
) -> list[LanguageOffer]:
    """One offer per language of the person (qualified or not), in language order."""
    languages = sorted(set(languages) | set(qualified))
    qualified = set(qualified)
    if not languages:
        return []
    waiting = session.execute(
        select(
            Clip.language,
            Clip.currency,
            func.count(Clip.id.distinct()),
            func.min(Clip.price),
            func.max(Clip.price),
        )
        .join(WorkItem, WorkItem.clip_id == Clip.id)
        .where(_waiting_slots(user_id, languages, now))
        .group_by(Clip.language, Clip.currency)
    ).all()
    by_language = {row[0]: row for row in waiting}
    next_prices = _next_prices(session, user_id, sorted(qualified & set(languages)), now)
    gold = gold_clip_counts(session, languages)
    offers = []
    for language in languages:
        _, currency, count, low, high = by_language.get(language, (language, None, 0, None, None))
        offers.append(
            LanguageOffer(
                language=language,
                open_clips=count,
                currency=currency,
                min_price=None if low is None else Decimal(low),
                max_price=None if high is None else Decimal(high),
                next_price=next_prices.get(language),
                qualified=language in qualified,
                exam_open=exam_is_open(gold.get(language, 0), exam_clips),
            )
        )
    return offers
