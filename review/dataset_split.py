"""Train/dev/test splits that keep a group (a speaker where known, else a recording) whole.

Groups are taken in the order of a hash of their key, so the same data always splits the same
way, and each goes to the split furthest below its share of audio duration: the splits come out
close to the ratios by duration, and no recording or speaker is heard in two of them.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from crowdscribe.errors import InvalidInput

SPLIT_NAMES = ("train", "dev", "test")


@dataclass(frozen=True)
class SplitItem:
    """What the split needs of an exported clip: its id, group and duration."""

    item_id: str
    group: str
    duration_s: float


def parse_ratios(text: str) -> tuple[float, float, float]:
    """``"0.8,0.1,0.1"`` as train, dev and test shares; they must be three, >= 0, sum to 1."""
    try:
        ratios = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise InvalidInput(f"--split {text!r} is not three numbers like 0.8,0.1,0.1") from None
    if len(ratios) != 3 or any(ratio < 0 for ratio in ratios):
        raise InvalidInput(f"--split {text!r} needs three shares >= 0 (train,dev,test)")
    if abs(sum(ratios) - 1.0) > 1e-6:
        raise InvalidInput(f"--split {text!r} must add up to 1 (it adds up to {sum(ratios):g})")
    return ratios  # type: ignore[return-value]


def _group_order_key(group: str) -> str:
    return hashlib.sha256(group.encode("utf-8")).hexdigest()


def assign_splits(items: Sequence[SplitItem], ratios: tuple[float, float, float]) -> dict[str, str]:
    """Each item's split name (``train``, ``dev``, ``test``); all items of a group share one."""
    durations: dict[str, float] = defaultdict(float)
    for item in items:
        durations[item.group] += item.duration_s
    total_s = sum(durations.values()) or 1.0
    targets = [ratio * total_s for ratio in ratios]
    filled = [0.0, 0.0, 0.0]
    group_split: dict[str, str] = {}
    for group in sorted(durations, key=_group_order_key):
        # The split with the largest share still missing, relative to its target.
        choices = [index for index, target in enumerate(targets) if target > 0]
        best = max(choices, key=lambda index: (targets[index] - filled[index]) / targets[index])
        filled[best] += durations[group]
        group_split[group] = SPLIT_NAMES[best]
    return {item.item_id: group_split[item.group] for item in items}
