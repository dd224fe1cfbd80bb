"""Numbers written as they are said: the convention is to spell numbers out, so the
validator suggests the spoken form and the comparison folds digits that slipped through."""

from __future__ import annotations

import re

_ONES = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_HAN_DIGITS = "零一二三四五六七八九"
_HAN_UNITS = ((1000, "千"), (100, "百"), (10, "十"))
# Value readings above this are unusual in speech; longer digit strings are read digit by digit.
_LARGEST_ENGLISH = 999_999
_LARGEST_CHINESE = 99_999_999

NUMBER_RE = re.compile(r"\d+(?:[.．]\d+)?")


def _english_below_thousand(n: int) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [_ONES[hundreds], "hundred"]
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_TENS[tens] + (f"-{_ONES[ones]}" if ones else ""))
    elif rest or not hundreds:
        words.append(_ONES[rest])
    return words


def english_number(digits: str) -> str:
    """Spell a run of digits as an English speaker most often reads it ("25" -> twenty-five)."""
    if "." in digits or "．" in digits:
        whole, _, fraction = digits.replace("．", ".").partition(".")
        spoken_fraction = " ".join(_ONES[int(d)] for d in fraction)
        return f"{english_number(whole)} point {spoken_fraction}"
    n = int(digits)
    if (len(digits) > 1 and digits.startswith(("0", "０"))) or n > _LARGEST_ENGLISH:
        return " ".join(_ONES[int(d)] for d in digits)
    thousands, rest = divmod(n, 1000)
    words = (_english_below_thousand(thousands) + ["thousand"]) if thousands else []
    if rest or not thousands:
        words += _english_below_thousand(rest)
    return " ".join(words)


def _chinese_below_ten_thousand(n: int, leading: bool) -> str:
    out: list[str] = []
    pending_zero = False
    for unit_value, unit in _HAN_UNITS:
        digit, n = divmod(n, unit_value)
        if digit:
            if pending_zero:
                out.append("零")
            pending_zero = False
            if digit == 1 and unit == "十" and leading and not out:
                out.append(unit)  # 十二, not 一十二
            elif digit == 2 and unit in "千百" and leading and not out:
                out.append("两" + unit)
            else:
                out.append(_HAN_DIGITS[digit] + unit)
        elif out:
            pending_zero = True
    if n:
        if pending_zero:
            out.append("零")
        out.append(_HAN_DIGITS[n])
    return "".join(out)


def chinese_number(digits: str, *, read_as_digits: bool = False) -> str:
    """Spell a run of digits in 汉字 ("25" -> 二十五; years and codes digit by digit: 二零二四)."""
    if "." in digits or "．" in digits:
        whole, _, fraction = digits.replace("．", ".").partition(".")
        return chinese_number(whole) + "点" + "".join(_HAN_DIGITS[int(d)] for d in fraction)
    n = int(digits)
    if (
        read_as_digits
        or (len(digits) > 1 and digits.startswith(("0", "０")))
        or (n > _LARGEST_CHINESE)
    ):
        return "".join(_HAN_DIGITS[int(d)] for d in digits)
    if n == 0:
        return "零"
    high, low = divmod(n, 10_000)
    if not high:
        return _chinese_below_ten_thousand(low, leading=True)
    text = ("两" if high == 2 else _chinese_below_ten_thousand(high, leading=True)) + "万"
    if low:
        text += ("零" if low < 1000 else "") + _chinese_below_ten_thousand(low, leading=False)
    return text


def spoken_number(digits: str, chinese: bool, following: str = "") -> str:
    """Spoken form of a digit run for the language family; ``following`` is the next character
    (a year before 年 is read digit by digit)."""
    if chinese:
        return chinese_number(digits, read_as_digits=following == "年")
    return english_number(digits)
