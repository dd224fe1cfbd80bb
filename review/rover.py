"""ROVER (Fiscus 1997): combine several transcripts of the same speech into one by building a
word transition network and voting in each slot.

The network starts as the first transcript, one slot per token. Each further transcript is
aligned to the network by dynamic programming and merged into it: a matched token joins its slot,
an unmatched slot gets a null arc for that transcript, and an extra token opens a new slot where
every earlier transcript has a null arc. Each slot then votes; the token (or null) with most votes
wins, ties going to the earliest transcript, so callers put the most trusted transcript first;
the winner is written the way most people wrote it. Votes may be weighted by each transcriber's
measured accuracy (Fiscus's confidence-weighted variant), and a null's vote against a verbatim
event (a filler, a repetition, a cut-off) may count less, since leaving one out is the common
mistake.

Tokens are compared by a key (the normalised form) but the winner keeps the surface form that
was written, so the output keeps people's casing, tags and guesses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

NULL = ""
_SUBSTITUTE, _DELETE, _INSERT = 0, 1, 2


@dataclass(frozen=True)
class Arc:
    """One transcript's token in a slot: ``key`` is compared, ``surface`` is what was written."""

    key: str
    surface: str


NULL_ARC = Arc(NULL, NULL)
Network = list[list[Arc]]  # slots, each with one arc per transcript merged so far


def _align_to_network(network: Network, keys: Sequence[str]) -> list[tuple[int, int]]:
    """Cheapest path of (slot index or -1, token index or -1) pairs, in order.

    A slot without a null arc that holds the next token is matched straight away (and likewise
    from the end): deleting such a slot costs 1, so matching it is never worse. Only the middle
    that differs goes through the dynamic programme, which keeps ROVER fast on similar texts."""
    slot_keys = [{arc.key for arc in slot} for slot in network]
    low, slot_end, key_end = 0, len(network), len(keys)
    while (
        low < slot_end
        and low < key_end
        and NULL not in slot_keys[low]
        and keys[low] in slot_keys[low]
    ):
        low += 1
    high = 0
    while (
        slot_end - high > low
        and key_end - high > low
        and NULL not in slot_keys[slot_end - high - 1]
        and keys[key_end - high - 1] in slot_keys[slot_end - high - 1]
    ):
        high += 1
    middle = _align_window(slot_keys[low : slot_end - high], keys[low : key_end - high])
    return (
        [(i, i) for i in range(low)]
        + [(i + low if i >= 0 else -1, j + low if j >= 0 else -1) for i, j in middle]
        + [(slot_end - high + k, key_end - high + k) for k in range(high)]
    )


def _align_window(slot_keys: list[set[str]], keys: Sequence[str]) -> list[tuple[int, int]]:
    rows, cols = len(slot_keys), len(keys)
    cost = [[0] * (cols + 1) for _ in range(rows + 1)]
    move = [[_SUBSTITUTE] * (cols + 1) for _ in range(rows + 1)]
    for j in range(1, cols + 1):
        cost[0][j], move[0][j] = j, _INSERT
    for i in range(1, rows + 1):
        keys_here = slot_keys[i - 1]
        delete_cost = 0 if NULL in keys_here else 1
        above, row = cost[i - 1], cost[i]
        row[0], move[i][0] = above[0] + delete_cost, _DELETE
        moves = move[i]
        for j in range(1, cols + 1):
            # On equal cost prefer a match, then a null arc, then a new slot, and pair two
            # different words last: a mismatch should not pull its neighbours out of line.
            matching = keys[j - 1] in keys_here
            best, step = above[j - 1] + (0 if matching else 1), _SUBSTITUTE
            deleting = above[j] + delete_cost
            if deleting < best or (deleting == best and not matching):
                best, step = deleting, _DELETE
            inserting = row[j - 1] + 1
            if inserting < best or (inserting == best and not matching and step == _SUBSTITUTE):
                best, step = inserting, _INSERT
            row[j], moves[j] = best, step
    path: list[tuple[int, int]] = []
    i, j = rows, cols
    while i or j:
        step = move[i][j]
        if step == _SUBSTITUTE:
            i, j = i - 1, j - 1
            path.append((i, j))
        elif step == _DELETE:
            i -= 1
            path.append((i, -1))
        else:
            j -= 1
            path.append((-1, j))
    path.reverse()
    return path


def build_network(transcripts: Sequence[Sequence[Arc]]) -> Network:
    """The word transition network of several token sequences, merged one after another."""
    if not transcripts:
        return []
    network: Network = [[arc] for arc in transcripts[0]]
    for merged, arcs in enumerate(transcripts[1:], start=1):
        grown: Network = []
        for slot_index, token_index in _align_to_network(network, [a.key for a in arcs]):
            slot = network[slot_index] if slot_index >= 0 else [NULL_ARC] * merged
            grown.append([*slot, arcs[token_index] if token_index >= 0 else NULL_ARC])
        network = grown
    return network


def vote(
    network: Network,
    weights: Sequence[float] | None = None,
    *,
    is_verbatim: Callable[[str], bool] | None = None,
    verbatim_null_weight: float = 1.0,
    null_weight: float = 1.0,
) -> list[Arc]:
    """Heaviest arc per slot (null arcs vote for nothing; nulls are dropped). ``weights`` give
    each transcript's vote (one each by default). A null vote counts ``null_weight`` of its
    weight, and in a slot holding a verbatim event (``is_verbatim`` of its key, or a repetition
    of the word before) ``verbatim_null_weight``: people leave words out more often than they
    invent them, and fillers and repetitions far more often."""
    return [
        arc
        for arc, _ in scored_vote(network, weights, is_verbatim, verbatim_null_weight, null_weight)
        if arc.key != NULL
    ]


def scored_vote(
    network: Network,
    weights: Sequence[float] | None = None,
    is_verbatim: Callable[[str], bool] | None = None,
    verbatim_null_weight: float = 1.0,
    null_weight: float = 1.0,
) -> list[tuple[Arc, float]]:
    """Every slot's winner (``NULL_ARC`` when the null wins) with its margin: the winner's score
    less the runner-up's (the whole score when the slot is unanimous), as ``vote`` counts it."""
    chosen: list[tuple[Arc, float]] = []
    previous = NULL
    for index, slot in enumerate(network):
        votes = weights if weights is not None else [1.0] * len(slot)
        scores: dict[str, float] = {}
        for arc, weight in zip(slot, votes, strict=True):
            scores[arc.key] = scores.get(arc.key, 0.0) + weight
        if NULL in scores:
            following = {arc.key for arc in network[index + 1]} if index + 1 < len(network) else ()
            verbatim = is_verbatim is not None and any(
                key != NULL and (is_verbatim(key) or key == previous or key in following)
                for key in scores
            )
            scores[NULL] *= verbatim_null_weight if verbatim else null_weight
        ranked = sorted(scores.values(), reverse=True)
        best = ranked[0]
        key = next(arc.key for arc in slot if scores[arc.key] == best)
        margin = best - ranked[1] if len(ranked) > 1 else best
        if key == NULL:
            chosen.append((NULL_ARC, margin))
            continue
        chosen.append((_commonest_surface(arc for arc in slot if arc.key == key), margin))
        previous = key
    return chosen


def _commonest_surface(arcs: Iterable[Arc]) -> Arc:
    """The way most people wrote the winning token (Cat / cat), ties to the earliest."""
    written = list(arcs)
    counts: dict[str, int] = {}
    for arc in written:
        counts[arc.surface] = counts.get(arc.surface, 0) + 1
    best = max(counts.values())
    return next(arc for arc in written if counts[arc.surface] == best)
