"""One final text from several transcripts of a clip, and a side-by-side view for reviewers.

- All the same after normalisation -> the text of the most accurate person (``identical``).
- Otherwise -> weighted ROVER (review.rover): each transcript votes with the log-odds of its
  writer's measured accuracy (``expected_errors``; the crowd's prior when unknown), starting from
  the most trusted text, and a verbatim event one trusted person heard (a filler, a repetition,
  a cut-off, a tag) is kept unless the others together outweigh them several times over
  (``rover``). With two transcripts this is a merge: where they differ, the more accurate
  person's reading wins, and never simply the one submitted first.
- If the vote yields nothing or breaks the conventions -> the most trusted text (``medoid``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from review.agreement import pairwise_error_rates
from review.normalize import normalize
from review.rover import Arc, build_network, scored_vote, vote
from transcribe.conventions import (
    FILLED_PAUSES,
    HAN_CHARACTER,
    Token,
    tokenize,
    validate_transcript,
)


@dataclass(frozen=True)
class Consensus:
    """The final text, how it was reached, and the largest pairwise error among the inputs."""

    text: str
    method: str  # identical | medoid | rover
    agreement_error: float


@dataclass(frozen=True)
class AlignedColumn:
    """One position across transcripts: each transcript's token there ('' for none)."""

    tokens: tuple[str, ...]
    agrees: bool


@dataclass(frozen=True)
class MultiAlignment:
    """Transcripts aligned token by token for side-by-side display, in the order given."""

    texts: tuple[str, ...]
    columns: tuple[AlignedColumn, ...]

    def to_dict(self) -> dict:
        """JSON-able form for the reviewer page."""
        return {
            "texts": list(self.texts),
            "columns": [{"tokens": list(c.tokens), "agrees": c.agrees} for c in self.columns],
        }


def token_key(token: Token, language: str) -> str:
    """What a token is compared as: an event by its tag, anything else by its normalised units."""
    if token.kind == "event":
        return token.text
    source = token.content if token.kind == "guess" else token.text
    return " ".join(normalize(source, language).units)


def _arcs(text: str, language: str) -> list[Arc]:
    return [Arc(token_key(token, language), token.text) for token in tokenize(text)]


def join_tokens(surfaces: Sequence[str]) -> str:
    """Tokens back into text: Chinese characters run together, everything else space-separated."""
    parts: list[str] = []
    previous = ""
    for surface in surfaces:
        if parts and not (
            HAN_CHARACTER.match(previous[-1:] if not previous.endswith("-") else previous[-2:-1])
            and HAN_CHARACTER.match(surface[:1])
        ):
            parts.append(" ")
        parts.append(surface)
        previous = surface
    return "".join(parts)


MEDOID = "medoid"  # the method of a final text that fell back to the most trusted transcript
PRIOR_ERROR = 0.05  # a transcriber's expected error rate before anything is known of them
# A null vote against a verbatim event counts a quarter: careful people drop about one filler or
# repetition in ten but add one in a hundred (bench/quality.py), so one trusted hearing stands.
VERBATIM_NULL_WEIGHT = 0.25
# A null vote against a word counts a little over half: people leave short words out several
# times as often as they add one, yet two who left it out still outvote one who wrote it.
WORD_NULL_WEIGHT = 0.6
_ERROR_FLOOR, _ERROR_CEILING = 0.005, 0.5


def vote_weight(expected_error: float | None) -> float:
    """A transcript's vote: the log-odds that its writer gets a unit right."""
    error = PRIOR_ERROR if expected_error is None else expected_error
    error = min(max(error, _ERROR_FLOOR), _ERROR_CEILING - 0.001)
    return math.log((1 - error) / error)


def is_verbatim_key(key: str) -> bool:
    """A filler, a cut-off or a tag: what verbatim transcription keeps and people drop."""
    return key in FILLED_PAUSES or key.endswith("-") or key.startswith("[")


def _medoid(rates: list[list[float]], weights: Sequence[float]) -> int:
    return min(range(len(rates)), key=lambda i: (sum(rates[i]), -weights[i], i))


def decide_consensus(
    texts: Sequence[str], language: str, expected_errors: Sequence[float | None] | None = None
) -> Consensus:
    """The final text for a clip's transcripts (see the module docstring for the rule);
    ``expected_errors`` are the writers' measured error rates, in the order of ``texts``."""
    if not texts:
        raise ValueError("decide_consensus needs at least one transcript")
    errors = list(expected_errors) if expected_errors is not None else [None] * len(texts)
    weights = [vote_weight(error) for error in errors]
    forms = [normalize(text, language) for text in texts]
    rates = pairwise_error_rates(texts, language)
    worst = max(max(row) for row in rates)
    trusted = sorted(range(len(texts)), key=lambda i: (-weights[i], sum(rates[i]), i))
    if all(form == forms[0] for form in forms[1:]):
        return Consensus(texts[trusted[0]], "identical", worst)
    fallback = texts[trusted[0]] if expected_errors is not None else texts[_medoid(rates, weights)]
    network = build_network([_arcs(texts[i], language) for i in trusted])
    voted = join_tokens(
        [
            arc.surface
            for arc in vote(
                network,
                [weights[i] for i in trusted],
                is_verbatim=is_verbatim_key,
                verbatim_null_weight=VERBATIM_NULL_WEIGHT,
                null_weight=WORD_NULL_WEIGHT,
            )
        ]
    )
    if not voted or validate_transcript(voted, language):
        return Consensus(fallback, MEDOID, worst)
    voted_form = normalize(voted, language)
    for index in trusted:  # keep a person's punctuation when the vote reproduces their text
        if forms[index] == voted_form:
            return Consensus(texts[index], "rover", worst)
    return Consensus(voted, "rover", worst)


def contested_share(
    texts: Sequence[str],
    language: str,
    expected_errors: Sequence[float | None],
    *,
    words_only: bool = True,
) -> float:
    """The expected share of the final text's units that the vote gets wrong where the texts
    differ: each contested slot's winner is wrong with the chance its vote margin leaves,
    1 / (1 + e^margin), the margin being in the log-odds the votes are cast in."""
    weights = [vote_weight(error) for error in expected_errors]
    trusted = sorted(range(len(texts)), key=lambda i: (-weights[i], i))
    network = build_network([_arcs(texts[i], language) for i in trusted])
    scored = scored_vote(
        network,
        [weights[i] for i in trusted],
        is_verbatim_key,
        VERBATIM_NULL_WEIGHT,
        WORD_NULL_WEIGHT,
    )
    wrong = 0.0
    previous = ""
    for slot, (winner, margin) in zip(network, scored, strict=True):
        keys = {arc.key for arc in slot} - {""}
        verbatim = any(is_verbatim_key(key) or key == previous for key in keys)
        if len({arc.key for arc in slot}) > 1 and (words_only is False or not verbatim):
            wrong += 1 / (1 + math.exp(margin))
        previous = winner.key or previous
    units = max(len(normalize(text, language).units) for text in texts)
    return wrong / max(units, 1)


def align_many(texts: Sequence[str], language: str) -> MultiAlignment:
    """Every transcript aligned into shared columns; a column agrees when all hold the same
    token (after normalisation)."""
    network = build_network([_arcs(text, language) for text in texts])
    columns = tuple(
        AlignedColumn(tuple(arc.surface for arc in slot), len({arc.key for arc in slot}) == 1)
        for slot in network
    )
    return MultiAlignment(tuple(texts), columns)
