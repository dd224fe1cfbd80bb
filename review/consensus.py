"""One final text from several transcripts of a clip, and a side-by-side view for reviewers.

- All the same after normalisation -> the first transcript as written (``identical``).
- Two transcripts -> the medoid: the one with the least summed error to the others, ties to the
  earlier (``medoid``).
- Three or more -> ROVER voting over the transcripts (review.rover), starting from the medoid;
  if the vote yields nothing or breaks the conventions, the medoid (``rover`` / ``medoid``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from review.agreement import pairwise_error_rates
from review.normalize import normalize
from review.rover import Arc, build_network, vote
from transcribe.conventions import HAN_CHARACTER, Token, tokenize, validate_transcript


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


def _medoid(rates: list[list[float]]) -> int:
    return min(range(len(rates)), key=lambda i: (sum(rates[i]), i))


def decide_consensus(texts: Sequence[str], language: str) -> Consensus:
    """The final text for a clip's transcripts (see the module docstring for the rule)."""
    if not texts:
        raise ValueError("decide_consensus needs at least one transcript")
    forms = [normalize(text, language) for text in texts]
    rates = pairwise_error_rates(texts, language)
    worst = max(max(row) for row in rates)
    if all(form == forms[0] for form in forms[1:]):
        return Consensus(texts[0], "identical", worst)
    centre = _medoid(rates)
    if len(texts) < 3:
        return Consensus(texts[centre], "medoid", worst)
    order = sorted(range(len(texts)), key=lambda i: (i != centre, sum(rates[i]), i))
    network = build_network([_arcs(texts[i], language) for i in order])
    voted = join_tokens([arc.surface for arc in vote(network)])
    if not voted or validate_transcript(voted, language):
        return Consensus(texts[centre], "medoid", worst)
    voted_form = normalize(voted, language)
    for index in order:  # keep a person's punctuation when the vote reproduces their text
        if forms[index] == voted_form:
            return Consensus(texts[index], "rover", worst)
    return Consensus(voted, "rover", worst)


def align_many(texts: Sequence[str], language: str) -> MultiAlignment:
    """Every transcript aligned into shared columns; a column agrees when all hold the same
    token (after normalisation)."""
    network = build_network([_arcs(text, language) for text in texts])
    columns = tuple(
        AlignedColumn(tuple(arc.surface for arc in slot), len({arc.key for arc in slot}) == 1)
        for slot in network
    )
    return MultiAlignment(tuple(texts), columns)
