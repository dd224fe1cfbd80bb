"""What a clip pays: a rate card per language and speaker group, priced by audio duration.

Money is ``Decimal`` throughout. A rate is an amount for a number of audio minutes ("7 CNY per
3 minutes"), so a price is computed from that exact fraction and rounded once, to the cent,
half up. ``docs/pricing.md`` explains each default figure.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from crowdscribe.errors import InvalidInput
from crowdscribe.languages import check_language, check_speaker_group

CENT = Decimal("0.01")
RATE_DISPLAY = Decimal("0.0001")
ANY = "*"
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_CARD_KEYS = frozenset({"currency", "minimum_per_clip", "rejected_factor", "default", "rates"})
_RATE_KEYS = frozenset({"language", "speaker_group", "amount", "minutes"})


class RateCardError(InvalidInput):
    """A rate card file that cannot be used; the message names the file and the bad entry."""


@dataclass(frozen=True)
class Rate:
    """``amount`` paid for ``minutes`` of audio in a language (``*`` = any) and speaker group."""

    language: str
    speaker_group: str
    amount: Decimal
    minutes: Decimal = Decimal(1)

    @property
    def per_minute(self) -> Decimal:
        """Per-minute rate to four places, for display (prices use the exact fraction)."""
        return (self.amount / self.minutes).quantize(RATE_DISPLAY, rounding=ROUND_HALF_UP)

    def to_dict(self) -> dict[str, str]:
        return {
            "language": self.language,
            "speaker_group": self.speaker_group,
            "amount": str(self.amount),
            "minutes": str(self.minutes),
            "per_minute": str(self.per_minute),
        }


@dataclass(frozen=True)
class RateCard:
    """Rates by (language, speaker group), a fallback rate, a floor per clip, and the share of
    the price that rejected work still earns."""

    currency: str
    default: Rate
    rates: tuple[Rate, ...]
    minimum_per_clip: Decimal
    rejected_factor: Decimal

    def rate_for(self, language: str, speaker_group: str) -> Rate:
        """The rate that applies: exact (language, group), then (language, *), then the parent
        language (``cmn`` for ``cmn-shaanxi``) with the group, then (parent, *), else default."""
        table = {(rate.language, rate.speaker_group): rate for rate in self.rates}
        language = language.strip().lower()
        group = speaker_group.strip().lower()
        candidates = [(language, group), (language, ANY)]
        parent = parent_language(language)
        if parent != language:
            candidates += [(parent, group), (parent, ANY)]
        for key in candidates:
            if key in table:
                return table[key]
        return self.default

    def rate_per_minute(self, language: str, speaker_group: str) -> Decimal:
        """The applicable rate per audio minute, to four places."""
        return self.rate_for(language, speaker_group).per_minute

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "minimum_per_clip": str(self.minimum_per_clip),
            "rejected_factor": str(self.rejected_factor),
            "default": self.default.to_dict(),
            "rates": [rate.to_dict() for rate in self.rates],
        }


def parent_language(language: str) -> str:
    """The language a dialect or regional code sits under: ``cmn`` for ``cmn-shaanxi``."""
    return re.split(r"[-_]", language, maxsplit=1)[0]


def price_clip(duration_s: float, language: str, speaker_group: str, card: RateCard) -> Decimal:
    """What one transcription of a clip pays: duration times rate, to the cent (half up), never
    below the card's minimum per clip."""
    if not math.isfinite(duration_s) or duration_s < 0:
        raise InvalidInput(f"clip duration must be a non-negative number of seconds: {duration_s}")
    rate = card.rate_for(language, speaker_group)
    # One multiplication and one division of exact decimals: 4.5 s at 7 per 3 min is exactly
    # 0.175, which must round up to 0.18 (a pre-divided 2.3333.../min would give 0.17).
    exact = Decimal(str(duration_s)) * rate.amount / (rate.minutes * 60)
    return max(exact.quantize(CENT, rounding=ROUND_HALF_UP), card.minimum_per_clip)


def rejected_amount(price: Decimal, card: RateCard) -> Decimal:
    """What work earns when review rejects it: the price times the card's rejected factor."""
    return (price * card.rejected_factor).quantize(CENT, rounding=ROUND_HALF_UP)


def default_rate_card() -> RateCard:
    """The built-in card in CNY, from the market figure of 7 CNY per 3 minutes of dialect audio."""
    dialect = Decimal("7.00"), Decimal(3)
    return RateCard(
        currency="CNY",
        default=Rate(ANY, ANY, Decimal("2.00")),
        rates=(
            Rate("cmn", ANY, Decimal("2.00")),
            Rate("cmn", "child", Decimal("2.50")),
            Rate("en", ANY, Decimal("2.00")),
            Rate("en", "child", Decimal("3.00")),
            Rate("cmn-shaanxi", ANY, *dialect),
            Rate("cmn-sichuan", ANY, *dialect),
            Rate("yue", ANY, *dialect),
            Rate("wuu", ANY, *dialect),
            Rate("nan", ANY, *dialect),
            Rate("hak", ANY, *dialect),
        ),
        minimum_per_clip=Decimal("0.10"),
        rejected_factor=Decimal("0.5"),
    )


def load_rate_card(path: Path | None) -> RateCard:
    """The card from a TOML file (format in docs/pricing.md); the default when ``path`` is None."""
    if path is None:
        return default_rate_card()
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle, parse_float=Decimal)
    except FileNotFoundError:
        raise RateCardError(f"rate card {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise RateCardError(f"rate card {path} is not valid TOML: {error}") from None
    return parse_rate_card(data, source=str(path))


def parse_rate_card(data: dict[str, Any], source: str = "rate card") -> RateCard:
    """Build and check a card from parsed TOML; every problem names the entry to fix."""
    _reject_unknown(data, _CARD_KEYS, source)
    for key in ("currency", "default"):
        if key not in data:
            raise RateCardError(f"{source}: missing '{key}'")
    currency = data["currency"]
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise RateCardError(
            f"{source}: currency must be a three-letter ISO 4217 code such as CNY, not {currency!r}"
        )
    minimum = _money(data.get("minimum_per_clip", 0), f"{source}: minimum_per_clip")
    factor = _money(data.get("rejected_factor", 1), f"{source}: rejected_factor")
    if factor > 1:
        raise RateCardError(f"{source}: rejected_factor must be between 0 and 1, not {factor}")
    default_table = data["default"]
    if not isinstance(default_table, dict):
        raise RateCardError(f"{source}: [default] must be a table with amount (and minutes)")
    _reject_unknown(default_table, frozenset({"amount", "minutes"}), f"{source}: [default]")
    default = _rate(dict(default_table, language=ANY, speaker_group=ANY), f"{source}: [default]")
    entries = data.get("rates", [])
    if not isinstance(entries, list):
        raise RateCardError(f"{source}: rates must be an array of [[rates]] tables")
    rates: list[Rate] = []
    seen: set[tuple[str, str]] = set()
    for number, entry in enumerate(entries, start=1):
        where = f"{source}: [[rates]] entry {number}"
        if not isinstance(entry, dict):
            raise RateCardError(f"{where} must be a table")
        rate = _rate(entry, where)
        key = (rate.language, rate.speaker_group)
        if key in seen:
            raise RateCardError(f"{where} repeats language {key[0]!r}, speaker_group {key[1]!r}")
        seen.add(key)
        rates.append(rate)
    return RateCard(currency, default, tuple(rates), minimum, factor)


def _rate(entry: dict[str, Any], where: str) -> Rate:
    _reject_unknown(entry, _RATE_KEYS, where)
    for key in ("language", "amount"):
        if key not in entry:
            raise RateCardError(f"{where}: missing '{key}'")
    language = entry["language"]
    group = entry.get("speaker_group", ANY)
    for name, value in (("language", language), ("speaker_group", group)):
        if not isinstance(value, str) or not value.strip():
            raise RateCardError(f"{where}: {name} must be a non-empty string")
    amount = _money(entry["amount"], f"{where}: amount")
    minutes = _money(entry.get("minutes", 1), f"{where}: minutes")
    if minutes == 0:
        raise RateCardError(f"{where}: minutes must be more than 0")
    return Rate(
        _registered(language, check_language, where),
        _registered(group, check_speaker_group, where),
        amount,
        minutes,
    )


def _registered(value: str, check: Callable[[str], str], where: str) -> str:
    # A rate for a code no clip can carry would never apply: refuse it as the registry does.
    if value.strip() == ANY:
        return ANY
    try:
        return check(value)
    except InvalidInput as error:
        raise RateCardError(f"{where}: {error}") from None


def _money(value: Any, where: str) -> Decimal:
    # TOML floats arrive as Decimal (parse_float); strings like "2.50" are accepted too.
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise RateCardError(f"{where} must be a number, not {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise RateCardError(f"{where} must be a number, not {value!r}") from None
    if not number.is_finite() or number < 0:
        raise RateCardError(f"{where} must be zero or more, not {value}")
    return number


def _reject_unknown(table: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise RateCardError(
            f"{where}: unknown key(s) {', '.join(unknown)}; expected {', '.join(sorted(allowed))}"
        )
