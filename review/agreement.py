"""How far apart transcripts are: WER on words, or CER on characters for Chinese languages,
after normalisation (review.normalize). Rates come from a Levenshtein distance over the units
(rapidfuzz, fast enough for every clip); alignments shown to people come from jiwer.

Edge cases: both empty -> 0.0; reference empty but hypothesis not -> 1.0. Non-speech events
([noise], [laugh]...) never count as words; ``event_error_rate`` compares them apart.
"""

from __future__ import annotations

import difflib
import tomllib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jiwer
from jiwer import AlignmentChunk
from rapidfuzz.distance import Levenshtein

from crowdscribe.errors import InvalidInput
from crowdscribe.languages import check_language, check_speaker_group
from review.normalize import NormalizedText, normalize
from transcribe.conventions import FILLED_PAUSES, is_chinese

__all__ = [
    "AgreementPolicy",
    "Alignment",
    "AlignmentChunk",
    "Comparison",
    "align",
    "clip_agreement",
    "compare_transcripts",
    "error_rate",
    "event_error_rate",
    "is_chinese",
    "load_policy",
    "pairwise_error_rates",
    "unit_error_rate",
    "verbatim_differences",
    "verbatim_kind",
    "verbatim_table",
]

DEFAULT_WER = 0.10
DEFAULT_CER = 0.08
CHILD_WER = 0.15
CHILD_CER = 0.12


def unit_error_rate(reference: Sequence[str], hypothesis: Sequence[str]) -> float:
    """Edit distance over reference length, on already-normalised units."""
    if not reference:
        return 0.0 if not hypothesis else 1.0
    return Levenshtein.distance(reference, hypothesis) / len(reference)


def error_rate(reference: str, hypothesis: str, language: str) -> float:
    """WER of ``hypothesis`` against ``reference`` (CER for Chinese languages), normalised first."""
    return unit_error_rate(
        normalize(reference, language).units, normalize(hypothesis, language).units
    )


def event_error_rate(reference: str, hypothesis: str, language: str) -> float:
    """The same rate over the non-speech events alone ([noise] missing = one deletion)."""
    return unit_error_rate(
        normalize(reference, language).events, normalize(hypothesis, language).events
    )


def _pair_rate(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    # The stricter of the two directions, so a pair has one rate whatever the order.
    if not a or not b:
        return 0.0 if not a and not b else 1.0
    return Levenshtein.distance(a, b) / min(len(a), len(b))


def pairwise_error_rates(texts: Sequence[str], language: str) -> list[list[float]]:
    """Symmetric matrix of error rates between every two transcripts (0 on the diagonal); a
    pair's rate is the larger of its two directions, so submission order does not matter."""
    units = [normalize(text, language).units for text in texts]
    count = len(units)
    rates = [[0.0] * count for _ in range(count)]
    for i in range(count):
        for j in range(i + 1, count):
            rates[i][j] = rates[j][i] = _pair_rate(units[i], units[j])
    return rates


def lexical_units(form: NormalizedText) -> tuple[str, ...]:
    """The words (characters) of a transcript without its verbatim events: fillers, cut-offs and
    immediate repetitions are compared apart (``verbatim_events``)."""
    kept: list[str] = []
    for unit in form.units:
        if unit in FILLED_PAUSES or unit.endswith("-") or (kept and kept[-1] == unit):
            continue
        kept.append(unit)
    return tuple(kept)


def verbatim_events(form: NormalizedText) -> tuple[str, ...]:
    """The verbatim events of a transcript in order: fillers, cut-offs, repetitions (``i×2``)
    and non-speech tags (``[noise]``)."""
    found: list[str] = []
    previous = ""
    for unit in form.units:
        if unit in FILLED_PAUSES or unit.endswith("-"):
            found.append(unit)
        elif unit == previous:
            found.append(f"{unit}×2")
        previous = unit if not unit.endswith("-") else previous
    return (*found, *(f"[{event}]" for event in form.events))


@dataclass(frozen=True)
class Comparison:
    """Every pair of a clip's transcripts compared twice: ``lexical`` error rates over the words
    alone, and ``verbatim`` counts of fillers, repetitions, cut-offs and tags that differ."""

    lexical: list[list[float]]
    verbatim: list[list[int]]


def compare_transcripts(texts: Sequence[str], language: str) -> Comparison:
    """Words and verbatim events compared apart, so that a missed filler is neither hidden
    inside a word-error threshold nor taken for a mishearing."""
    forms = [normalize(text, language) for text in texts]
    words = [lexical_units(form) for form in forms]
    events = [verbatim_events(form) for form in forms]
    count = len(forms)
    lexical = [[0.0] * count for _ in range(count)]
    verbatim = [[0] * count for _ in range(count)]
    for i in range(count):
        for j in range(i + 1, count):
            lexical[i][j] = lexical[j][i] = _pair_rate(words[i], words[j])
            verbatim[i][j] = verbatim[j][i] = Levenshtein.distance(events[i], events[j])
    return Comparison(lexical, verbatim)


VERBATIM_KINDS = ("filler", "repetition", "cut_off", "tag")


def verbatim_kind(event: str) -> str:
    """Which kind of verbatim event ``event`` (as ``verbatim_events`` writes it) is."""
    if event.startswith("["):
        return "tag"
    if event.endswith("×2"):
        return "repetition"
    if event.endswith("-"):
        return "cut_off"
    return "filler"


@dataclass(frozen=True)
class VerbatimDifference:
    """A verbatim event the transcripts do not all have as often: its ``kind`` (filler,
    repetition, cut_off, tag), the ``event`` (``um``, ``i×2``, ``wor-``, ``[noise]``) and how
    many times each transcript has it, in text order."""

    kind: str
    event: str
    counts: tuple[int, ...]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "event": self.event, "counts": list(self.counts)}


def verbatim_table(texts: Sequence[str], language: str) -> tuple[VerbatimDifference, ...]:
    """Every verbatim event some of ``texts`` have and others lack, by kind then event, with
    each transcript's count: what a reviewer checks apart from the words."""
    counts = [Counter(verbatim_events(normalize(text, language))) for text in texts]
    every = set().union(*counts) if counts else set()
    differing = [event for event in every if len({c[event] for c in counts}) > 1]
    order = {kind: rank for rank, kind in enumerate(VERBATIM_KINDS)}
    return tuple(
        VerbatimDifference(verbatim_kind(event), event, tuple(c[event] for c in counts))
        for event in sorted(differing, key=lambda e: (order[verbatim_kind(e)], e))
    )


def verbatim_differences(texts: Sequence[str], language: str) -> tuple[str, ...]:
    """The verbatim events some of ``texts`` have and others lack (``um``, ``i×2``, ``[noise]``),
    for the decision record."""
    return tuple(sorted(row.event for row in verbatim_table(texts, language)))


def clip_agreement(texts: Sequence[str], language: str) -> float:
    """The largest pairwise error rate among a clip's transcripts (0.0 for fewer than two)."""
    rates = pairwise_error_rates(texts, language)
    return max((max(row) for row in rates), default=0.0)


@dataclass(frozen=True)
class Alignment:
    """Word (or character) alignment of a hypothesis against a reference, as jiwer chunks with
    indexes into the normalised token tuples."""

    reference_tokens: tuple[str, ...]
    hypothesis_tokens: tuple[str, ...]
    chunks: tuple[AlignmentChunk, ...]
    error_rate: float

    def to_dict(self) -> dict:
        """JSON-able rows for display: each chunk with the tokens it covers on both sides."""
        return {
            "error_rate": self.error_rate,
            "chunks": [
                {
                    "type": chunk.type,
                    "reference": list(
                        self.reference_tokens[chunk.ref_start_idx : chunk.ref_end_idx]
                    ),
                    "hypothesis": list(
                        self.hypothesis_tokens[chunk.hyp_start_idx : chunk.hyp_end_idx]
                    ),
                }
                for chunk in self.chunks
            ],
        }


def align_units(reference: tuple[str, ...], hypothesis: tuple[str, ...]) -> Alignment:
    """Alignment of two normalised unit sequences through jiwer."""
    rate = unit_error_rate(reference, hypothesis)
    if not reference and not hypothesis:
        return Alignment(reference, hypothesis, (), rate)
    # Units never contain spaces, so jiwer's default whitespace split gives them back exactly.
    output = jiwer.process_words(" ".join(reference), " ".join(hypothesis))
    return Alignment(reference, hypothesis, tuple(output.alignments[0]), rate)


def align(reference: str, hypothesis: str, language: str) -> Alignment:
    """Where the hypothesis differs from the reference, for showing a person their errors."""
    return align_units(normalize(reference, language).units, normalize(hypothesis, language).units)


ESCALATIONS = ("benefit", "transcribe", "review")
DEFAULT_REVIEW_COST = 2.0  # a review costs about two transcriptions of the clip
DEFAULT_ERROR_PRICE = 40.0  # transcription-equivalents a clip's final error of 1.0 is worth
DEFAULT_MAX_VERBATIM_DIFFERENCES = 3
# The keys a policy file may hold, per table (anything else is a typo, refused with a hint).
POLICY_KEYS = ("wer", "cer", "speaker_group", "override", "escalation")
RATE_KEYS = ("wer", "cer")
OVERRIDE_KEYS = ("language", "speaker_group", "threshold")
ESCALATION_KEYS = ("rule", "review_cost", "error_price", "max_verbatim_differences")


@dataclass(frozen=True)
class AgreementPolicy:
    """Largest pairwise error rate at which transcripts count as agreeing, and how a clip that
    does not agree is escalated. Threshold lookup order: an override for (language,
    speaker_group), for the language alone, the speaker group's default (children are harder to
    hear), then the WER/CER default.

    ``escalation``: ``benefit`` weighs a further transcription against a review by expected
    cost and error (review.decisions); ``transcribe`` asks more people up to the overlap limit
    first (the old rule); ``review`` sends every disagreement to a reviewer."""

    wer: float = DEFAULT_WER
    cer: float = DEFAULT_CER
    group_rates: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: {"child": (CHILD_WER, CHILD_CER)}
    )
    overrides: Mapping[tuple[str, str], float] = field(default_factory=dict)
    escalation: str = "benefit"
    review_cost: float = DEFAULT_REVIEW_COST
    error_price: float = DEFAULT_ERROR_PRICE
    max_verbatim_differences: int = DEFAULT_MAX_VERBATIM_DIFFERENCES

    def threshold_for(self, language: str, speaker_group: str) -> float:
        """The agreement threshold for a clip's language and speaker group."""
        language = language.lower()
        base = language.split("-", 1)[0]
        for key in ((language, speaker_group), (base, speaker_group), (language, "*"), (base, "*")):
            if key in self.overrides:
                return self.overrides[key]
        wer, cer = self.group_rates.get(speaker_group, (self.wer, self.cer))
        return cer if is_chinese(language) else wer


def _rate(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidInput(f"{where} must be a number between 0 and 1, got {value!r}")
    return float(value)


def load_policy(path: Path | None) -> AgreementPolicy:
    """Policy from a TOML file (see docs/conventions.md), or the defaults when ``path`` is None.
    Unknown keys, escalation rules, languages and speaker groups are refused with the closest
    known one, so a typo never silently leaves a default in force.

    ```toml
    wer = 0.10
    cer = 0.08
    [speaker_group.child]
    wer = 0.15
    cer = 0.12
    [[override]]
    language = "cmn-shaanxi"
    speaker_group = "elderly"   # optional; any group when left out
    threshold = 0.12
    [escalation]
    rule = "benefit"            # benefit | transcribe | review
    review_cost = 2.0           # in transcriptions of the clip
    error_price = 40.0          # transcriptions a final error rate of 1.0 is worth
    max_verbatim_differences = 3
    ```
    """
    if path is None:
        return AgreementPolicy()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"Cannot read the agreement policy {path}: {exc}") from exc
    _known_keys(data, POLICY_KEYS, f"{path}")
    wer = _rate(data.get("wer", DEFAULT_WER), f"{path}: wer")
    cer = _rate(data.get("cer", DEFAULT_CER), f"{path}: cer")
    groups = {"child": (CHILD_WER, CHILD_CER)}
    for name, rates in _table(data, "speaker_group", path).items():
        where = f"{path}: speaker_group.{name}"
        group = _registered(name, check_speaker_group, where)
        _known_keys(_table({name: rates}, name, where), RATE_KEYS, where)
        groups[group] = (
            _rate(rates.get("wer", wer), f"{where}.wer"),
            _rate(rates.get("cer", cer), f"{where}.cer"),
        )
    overrides: dict[tuple[str, str], float] = {}
    entries = data.get("override", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise InvalidInput(f"{path}: override must be [[override]] tables")
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: override #{number}"
        _known_keys(entry, OVERRIDE_KEYS, where)
        if "language" not in entry or "threshold" not in entry:
            raise InvalidInput(f"{where} needs a language and a threshold")
        language = _registered(str(entry["language"]), check_language, where)
        group = str(entry.get("speaker_group", "*"))
        if group != "*":
            group = _registered(group, check_speaker_group, where)
        overrides[(language, group)] = _rate(entry["threshold"], f"{where} threshold")
    return AgreementPolicy(
        wer=wer, cer=cer, group_rates=groups, overrides=overrides, **_escalation(data, path)
    )


def _did_you_mean(value: str, known: Sequence[str]) -> str:
    guesses = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
    return f"did you mean {guesses[0]}? " if guesses else ""


def _known_keys(table: Mapping, known: Sequence[str], where: str) -> None:
    for key in table:
        if key not in known:
            raise InvalidInput(
                f"{where}: unknown key {key!r}; {_did_you_mean(key, known)}"
                f"expected {', '.join(known)}"
            )


def _table(data: Mapping, key: str, where: object) -> Mapping:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: {key} must be a table")
    return value


def _registered(value: str, check: Callable[[str], str], where: str) -> str:
    try:
        return check(value)
    except InvalidInput as error:
        raise InvalidInput(f"{where}: {error}") from None


def _escalation(data: Mapping, path: Path) -> dict:
    section = _table(data, "escalation", path)
    _known_keys(section, ESCALATION_KEYS, f"{path}: escalation")
    rule = section.get("rule", "benefit")
    if rule not in ESCALATIONS:
        raise InvalidInput(
            f"{path}: unknown escalation.rule {rule!r}; {_did_you_mean(str(rule), ESCALATIONS)}"
            f"choose from {', '.join(ESCALATIONS)}"
        )
    values = {"escalation": rule}
    for name, default in (
        ("review_cost", DEFAULT_REVIEW_COST),
        ("error_price", DEFAULT_ERROR_PRICE),
    ):
        value = section.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise InvalidInput(f"{path}: escalation.{name} must be a number >= 0, got {value!r}")
        values[name] = float(value)
    limit = section.get("max_verbatim_differences", DEFAULT_MAX_VERBATIM_DIFFERENCES)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise InvalidInput(f"{path}: escalation.max_verbatim_differences must be a whole number")
    values["max_verbatim_differences"] = limit
    return values
