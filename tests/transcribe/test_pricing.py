"""Rate card lookup, rounding and the TOML card format."""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from crowdscribe.errors import InvalidInput
from transcribe.pricing import (
    ANY,
    Rate,
    RateCard,
    RateCardError,
    default_rate_card,
    load_rate_card,
    parse_rate_card,
    price_clip,
    rejected_amount,
)

DOCS = Path(__file__).parents[2] / "docs" / "pricing.md"


def card_without_minimum(*rates: Rate, default: str = "2.00") -> RateCard:
    return RateCard("CNY", Rate(ANY, ANY, Decimal(default)), rates, Decimal(0), Decimal("0.5"))


def write_card(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rates.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_one_second_of_dialect_rounds_half_up_to_the_cent() -> None:
    card = card_without_minimum(Rate("cmn-shaanxi", ANY, Decimal(7), Decimal(3)))
    # 1 s at 7 CNY / 3 min = 0.03888... CNY
    assert price_clip(1.0, "cmn-shaanxi", "adult", card) == Decimal("0.04")


def test_an_exact_half_cent_rounds_up_not_to_even() -> None:
    card = card_without_minimum(Rate("yue", ANY, Decimal(7), Decimal(3)))
    # 4.5 s at 7/3 per minute is exactly 0.175; a pre-divided 2.3333.../min would give 0.17.
    assert price_clip(4.5, "yue", "adult", card) == Decimal("0.18")
    # 0.3 s at 1.00/min = 0.005 exactly: half up gives a cent, banker's rounding would give 0.
    assert price_clip(0.3, "xx", "adult", card_without_minimum(default="1.00")) == Decimal("0.01")


def test_fifteen_seconds_of_dialect_pays_a_quarter_of_seven_over_three() -> None:
    card = default_rate_card()
    assert price_clip(15.0, "cmn-shaanxi", "adult", card) == Decimal("0.58")
    assert price_clip(180.0, "yue", "adult", card) == Decimal("7.00")


def test_short_clip_pays_at_least_the_minimum() -> None:
    card = default_rate_card()
    assert card.minimum_per_clip == Decimal("0.10")
    assert price_clip(0.5, "cmn", "adult", card) == Decimal("0.10")
    assert price_clip(0.0, "en", "adult", card) == Decimal("0.10")
    assert price_clip(6.0, "cmn", "adult", card) == Decimal("0.20")


def test_prices_and_rates_are_decimal_never_float() -> None:
    card = default_rate_card()
    price = price_clip(7.31, "en", "child", card)
    assert type(price) is Decimal
    assert type(card.rate_per_minute("en", "child")) is Decimal
    assert type(rejected_amount(price, card)) is Decimal
    assert all(type(rate.amount) is Decimal for rate in card.rates)
    assert type(card.minimum_per_clip) is Decimal and type(card.rejected_factor) is Decimal


def test_lookup_falls_back_from_exact_to_language_to_parent_to_default() -> None:
    card = card_without_minimum(
        Rate("cmn-shaanxi", "child", Decimal("4.00")),
        Rate("cmn-shaanxi", ANY, Decimal("3.00")),
        Rate("cmn", "elderly", Decimal("2.60")),
        Rate("cmn", ANY, Decimal("1.80")),
        default="1.00",
    )
    assert card.rate_per_minute("cmn-shaanxi", "child") == Decimal("4.0000")
    assert card.rate_per_minute("cmn-shaanxi", "adult") == Decimal("3.0000")
    # a dialect with no entry of its own falls to its parent language
    assert card.rate_per_minute("cmn-henan", "elderly") == Decimal("2.6000")
    assert card.rate_per_minute("cmn-henan", "adult") == Decimal("1.8000")
    assert card.rate_per_minute("de", "adult") == Decimal("1.0000")


def test_lookup_ignores_case_of_language_and_group() -> None:
    card = default_rate_card()
    assert card.rate_for("YUE-HK", "Adult") == card.rate_for("yue", "adult")


def test_default_card_gives_dialects_and_children_a_premium_over_standard_adults() -> None:
    card = default_rate_card()
    standard = card.rate_per_minute("cmn", "adult")
    assert card.rate_per_minute("en", "adult") == standard
    assert card.rate_per_minute("cmn-shaanxi", "adult") == Decimal("2.3333") > standard
    assert card.rate_per_minute("yue", "adult") == Decimal("2.3333")
    assert card.rate_per_minute("en", "child") > card.rate_per_minute("en", "adult")
    assert card.currency == "CNY"


def test_rejected_work_earns_the_rejected_factor_of_its_price() -> None:
    card = default_rate_card()
    assert rejected_amount(Decimal("0.58"), card) == Decimal("0.29")
    assert rejected_amount(Decimal("0.15"), card) == Decimal("0.08")  # 0.075 rounds up


def test_negative_duration_is_refused() -> None:
    with pytest.raises(InvalidInput, match="non-negative"):
        price_clip(-1.0, "en", "adult", default_rate_card())


def test_toml_card_loads_with_rates_for_several_minutes(tmp_path: Path) -> None:
    path = write_card(
        tmp_path,
        """
currency = "USD"
minimum_per_clip = 0.02
rejected_factor = "0.25"

[default]
amount = 0.50

[[rates]]
language = "yue"
amount = 1.20
minutes = 2

[[rates]]
language = "en"
speaker_group = "child"
amount = 1
""",
    )
    card = load_rate_card(path)
    assert card.currency == "USD"
    assert card.minimum_per_clip == Decimal("0.02")
    assert card.rejected_factor == Decimal("0.25")
    assert card.rate_per_minute("yue-hk", "adult") == Decimal("0.6000")
    assert card.rate_per_minute("en", "child") == Decimal("1.0000")
    assert card.rate_per_minute("en", "adult") == Decimal("0.5000")
    assert price_clip(10.0, "yue", "adult", card) == Decimal("0.10")


def test_no_path_means_the_default_card() -> None:
    assert load_rate_card(None) == default_rate_card()


def test_documented_card_is_the_default_card() -> None:
    # docs/pricing.md shows the default card as TOML; it must load and match the code.
    block = re.search(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert block is not None, "docs/pricing.md has no ```toml block"
    data = tomllib.loads(block.group(1), parse_float=Decimal)
    assert parse_rate_card(data) == default_rate_card()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('currency = "CNY"\n[default]\namount = -1\n', r"\[default\]: amount must be zero or more"),
        (
            'currency = "CNY"\n[default]\namount = 1\n[[rates]]\nlanguage = "yue"\namount = -0.5\n',
            r"entry 1: amount must be zero or more",
        ),
        ('currency = "CNY"\ncolour = "red"\n[default]\namount = 1\n', r"unknown key\(s\) colour"),
        (
            'currency = "CNY"\n[default]\namount = 1\n[[rates]]\nlanguage = "yue"\nprice = 2\n',
            r"entry 1: unknown key\(s\) price",
        ),
        ('currency = "yuan"\n[default]\namount = 1\n', r"three-letter ISO 4217 code"),
        ('currency = "cny"\n[default]\namount = 1\n', r"three-letter ISO 4217 code"),
        ("currency = 156\n[default]\namount = 1\n", r"three-letter ISO 4217 code"),
        ("[default]\namount = 1\n", r"missing 'currency'"),
        ('currency = "CNY"\n', r"missing 'default'"),
        ('currency = "CNY"\nrejected_factor = 1.5\n[default]\namount = 1\n', r"between 0 and 1"),
        ('currency = "CNY"\n[default]\namount = "lots"\n', r"amount must be a number"),
        ('currency = "CNY"\n[default]\namount = 1\nminutes = 0\n', r"minutes must be more than 0"),
        (
            'currency = "CNY"\n[default]\namount = 1\n'
            '[[rates]]\nlanguage = "yue"\namount = 2\n[[rates]]\nlanguage = "YUE"\namount = 3\n',
            r"entry 2 repeats language 'yue'",
        ),
        ('currency = "CNY"\n[default]\namount = 1\n[[rates]]\namount = 2\n', r"missing 'language'"),
        ('currency = "CNY"\n[default\namount = 1\n', r"not valid TOML"),
        (
            'currency = "CNY"\n[default]\namount = 1\n'
            '[[rates]]\nlanguage = "Cantonese"\namount = 2\n',
            r"entry 1: unknown language 'Cantonese'; did you mean yue \(Cantonese\)\?",
        ),
        (
            'currency = "CNY"\n[default]\namount = 1\n'
            '[[rates]]\nlanguage = "cantonse"\namount = 2\n',
            r"entry 1: unknown language 'cantonse'; did you mean yue",
        ),
        (
            'currency = "CNY"\n[default]\namount = 1\n'
            '[[rates]]\nlanguage = "yue"\nspeaker_group = "kid"\namount = 2\n',
            r"entry 1: unknown speaker group 'kid'; did you mean child\?",
        ),
    ],
)
def test_malformed_card_is_refused_with_the_entry_to_fix(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write_card(tmp_path, text)
    with pytest.raises(RateCardError, match=message) as refused:
        load_rate_card(path)
    assert str(path) in str(refused.value)


def test_missing_card_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RateCardError, match="does not exist"):
        load_rate_card(tmp_path / "nope.toml")


def test_a_card_names_languages_and_groups_as_the_registry_spells_them(tmp_path: Path) -> None:
    path = write_card(
        tmp_path,
        'currency = "CNY"\n[default]\namount = 1\n'
        '[[rates]]\nlanguage = "CMN_Shaanxi"\nspeaker_group = " Elderly "\namount = 3\n'
        '[[rates]]\nlanguage = "yue"\nspeaker_group = "*"\namount = 2\n',
    )
    card = load_rate_card(path)
    assert [(rate.language, rate.speaker_group) for rate in card.rates] == [
        ("cmn-shaanxi", "elderly"),
        ("yue", ANY),
    ]
