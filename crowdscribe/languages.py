"""The one registry of language codes and speaker groups every command, page and API accepts.

Codes are ISO 639 as BCP 47 writes them: the two-letter ISO 639-1 code where one exists (``en``),
else ISO 639-3 (``yue``, ``cmn``), plus the regional codes the rate card prices apart
(``cmn-shaanxi``). Anything else is refused with a "did you mean" hint, and English names
("Cantonese") point to their code, so a typo never makes a person or a clip no one can match.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import cache

import pycountry

from crowdscribe.errors import InvalidInput

# Regional varieties priced or queued apart from their parent language.
DIALECTS: dict[str, str] = {
    "cmn-shaanxi": "Mandarin, Shaanxi",
    "cmn-sichuan": "Mandarin, Sichuan",
    "cmn-dongbei": "Mandarin, Northeastern",
    "cmn-henan": "Mandarin, Henan",
    "cmn-shandong": "Mandarin, Shandong",
    "yue-hk": "Cantonese, Hong Kong",
    "yue-guangzhou": "Cantonese, Guangzhou",
}
# Everyday English names the ISO tables spell differently.
ALIASES: dict[str, str] = {
    "cantonese": "yue",
    "mandarin": "cmn",
    "putonghua": "cmn",
    "shanghainese": "wuu",
    "wu": "wuu",
    "hokkien": "nan",
    "minnan": "nan",
    "taiwanese": "nan",
    "hakka": "hak",
    "sichuanese": "cmn-sichuan",
    "shaanxi": "cmn-shaanxi",
}

# Speaker groups, youngest first; the rate card and the pitch check use the same words.
SPEAKER_GROUPS: dict[str, str] = {
    "child": "children under 13",
    "teen": "13 to 17",
    "adult": "18 to 64",
    "elderly": "65 and over",
}
GROUP_ALIASES: dict[str, str] = {
    "kid": "child",
    "kids": "child",
    "children": "child",
    "teenager": "teen",
    "adults": "adult",
    "senior": "elderly",
    "old": "elderly",
}

# Typical speaking F0: men 85-180 Hz, women 165-255 Hz, children 250-400 Hz.
CHILD_ABOVE_HZ = 275.0
ADULT_BELOW_HZ = 200.0


@cache
def language_names() -> dict[str, str]:
    """Every accepted code with its English name, ISO 639 languages then regional ones."""
    names: dict[str, str] = {}
    for language in pycountry.languages:
        code = getattr(language, "alpha_2", None) or language.alpha_3
        names[code] = language.name
    names.update(DIALECTS)
    names["yue"] = "Cantonese"  # ISO calls it "Yue Chinese"; coordinators say Cantonese
    return names


@cache
def _codes_by_name() -> dict[str, str]:
    by_name = {name.lower(): code for code, name in language_names().items()}
    for language in pycountry.languages:
        code = getattr(language, "alpha_2", None)
        if code:  # "eng" is English, written "en" here
            by_name[language.alpha_3] = code
    by_name.update(ALIASES)
    return by_name


def language_name(code: str) -> str:
    """The English name of an accepted code (the code itself if unknown)."""
    return language_names().get(code, code)


def check_language(value: str) -> str:
    """The registered code ``value`` spells (case and spaces ignored), else InvalidInput with a
    "did you mean" hint that maps names and ISO 639-3 spellings to the code to use."""
    code = value.strip().lower().replace("_", "-")
    if code in language_names():
        return code
    raise InvalidInput(f"unknown language {value!r}; {_language_hint(code)}")


def check_languages(values: Iterable[str]) -> tuple[str, ...]:
    """Comma lists of codes checked one by one and de-duplicated in order."""
    codes: list[str] = []
    for item in values:
        for part in str(item).split(","):
            if part.strip() and (code := check_language(part)) not in codes:
                codes.append(code)
    return tuple(codes)


def check_speaker_group(value: str) -> str:
    """The speaker group ``value`` names, else InvalidInput listing the groups (with a guess)."""
    group = value.strip().lower()
    if group in SPEAKER_GROUPS:
        return group
    guess = GROUP_ALIASES.get(group) or next(
        iter(difflib.get_close_matches(group, SPEAKER_GROUPS, n=1, cutoff=0.6)), None
    )
    hint = f"did you mean {guess}? " if guess else ""
    raise InvalidInput(
        f"unknown speaker group {value!r}; {hint}choose from {', '.join(SPEAKER_GROUPS)}"
    )


def _language_hint(code: str) -> str:
    by_name = _codes_by_name()
    exact = by_name.get(code)
    if exact is not None:
        return f"did you mean {exact} ({language_name(exact)})?"
    guesses = difflib.get_close_matches(code, list(language_names()), n=3, cutoff=0.75)
    guesses += [
        by_name[name]
        for name in difflib.get_close_matches(code, list(by_name), n=3, cutoff=0.75)
        if by_name[name] not in guesses
    ]
    if not guesses:
        return "use an ISO 639 code such as en, yue, cmn or cmn-shaanxi"
    return (
        "did you mean "
        + " or ".join(f"{guess} ({language_name(guess)})" for guess in guesses[:3])
        + "?"
    )


def speaker_group_doubt(speaker_group: str, median_f0_hz: float | None) -> str | None:
    """Why a recording's median pitch makes its speaker group look wrong, or None: a high voice
    labelled adult or elderly (a child's work paid at the adult rate), a low voice as child."""
    if median_f0_hz is None:
        return None
    if speaker_group in ("adult", "elderly") and median_f0_hz > CHILD_ABOVE_HZ:
        return (
            f"median pitch {median_f0_hz:.0f} Hz sounds like a child, but it is labelled "
            f"{speaker_group}; if so: crowdscribe recordings relabel SOURCE --speaker-group child "
            '--reason "..."'
        )
    if speaker_group == "child" and median_f0_hz < ADULT_BELOW_HZ:
        return f"median pitch {median_f0_hz:.0f} Hz sounds like an adult, but it is labelled child"
    return None
