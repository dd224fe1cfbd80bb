"""Tags as a Chinese input method types them, folded to the conventions' canonical form.

An IME in Chinese mode gives ``【noise】``, ``［笑］`` and ``（（猜））``; people also write the tag
names in Chinese (``[噪音]``, ``[听不清]``). Folding happens before validation, storage and
comparison, so ``【noise】`` is the event ``[noise]`` and never the word "noise". Bracketed text
that names no tag becomes ``[text]``, which the validator then refuses with its hint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Chinese names (simplified and traditional) people give the tags, by canonical name.
CHINESE_TAG_NAMES: dict[str, tuple[str, ...]] = {
    "noise": ("噪音", "噪声", "噪聲", "杂音", "雜音", "背景音", "背景噪音", "响声", "響聲"),
    "laugh": ("笑", "笑声", "笑聲", "大笑", "笑笑"),
    "cough": ("咳嗽", "咳", "喷嚏", "噴嚏", "清嗓子"),
    "breath": ("呼吸", "呼吸声", "呼吸聲", "吸气", "吸氣", "喘气", "喘氣", "叹气", "嘆氣"),
    "music": ("音乐", "音樂", "歌声", "歌聲", "唱歌"),
    "no-speech": (
        "无语音",
        "無語音",
        "没有说话",
        "沒有說話",
        "无人说话",
        "無人說話",
        "静音",
        "靜音",
    ),
    "unintelligible": (
        "听不清",
        "聽不清",
        "听不清楚",
        "聽不清楚",
        "听不懂",
        "聽不懂",
        "不清楚",
        "模糊",
    ),
}
TAG_ALIASES: dict[str, str] = {
    alias: tag for tag, aliases in CHINESE_TAG_NAMES.items() for alias in aliases
}
_FULL_WIDTH_OPEN = "【［〔"
# The name is trimmed of spaces in code: spaces on both sides of a lazy name in the pattern
# made a '[' followed by many spaces cost cubic time (a minute for 2,000 characters).
_BRACKETED = re.compile(r"([【［〔\[])([^【】［］〔〕\[\]()（）\n]*)([】］〕\]])")
_NAME_PADDING = " \u3000"
_FULL_WIDTH_GUESS = re.compile(r"（（|））")
_GUESS_MARKS = {"（（": "((", "））": "))"}


@dataclass(frozen=True)
class FoldedInput:
    """The folded text, and for each of its characters the span of the original it came from,
    so problems found in the folded text point at what the person typed."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Character offsets in the original text for ``start``..``end`` of the folded one."""
        if self.text == self.original:
            return start, end
        first = self.starts[start] if start < len(self.text) else len(self.original)
        last = self.ends[end - 1] if end > start else first
        return first, last


def _canonical_tag(opening: str, name: str, closing: str) -> str | None:
    """The tag a bracketed name stands for, or None to leave the brackets as typed."""
    full_width = opening in _FULL_WIDTH_OPEN or closing != "]"
    if name in TAG_ALIASES:
        return f"[{TAG_ALIASES[name]}]"
    if full_width:
        return f"[{name.lower()}]"
    return None


def fold_tag_input(text: str) -> FoldedInput:
    """Full-width brackets and Chinese tag names folded to canonical tags; ``（（`` ``））`` to
    ``((`` ``))``. Everything else is kept character for character."""
    replacements: list[tuple[int, int, str]] = []
    for match in _BRACKETED.finditer(text):
        name = match.group(2).strip(_NAME_PADDING)
        tag = _canonical_tag(match.group(1), name, match.group(3))
        if tag is not None and tag != match.group():
            replacements.append((match.start(), match.end(), tag))
    # Both lists are in text order: one walk finds the guess marks inside no folded tag.
    tags = iter(replacements.copy())
    tag = next(tags, None)
    for match in _FULL_WIDTH_GUESS.finditer(text):
        while tag is not None and tag[1] <= match.start():
            tag = next(tags, None)
        if tag is None or match.start() < tag[0]:
            replacements.append((match.start(), match.end(), _GUESS_MARKS[match.group()]))
    if not replacements:
        return FoldedInput(text, text, (), ())
    replacements.sort()
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for start, end, replacement in replacements:
        parts.append(text[position:start])
        starts.extend(range(position, start))
        ends.extend(range(position + 1, start + 1))
        parts.append(replacement)
        starts.extend([start] * len(replacement))
        ends.extend([end] * len(replacement))
        position = end
    parts.append(text[position:])
    starts.extend(range(position, len(text)))
    ends.extend(range(position + 1, len(text) + 1))
    return FoldedInput(text, "".join(parts), tuple(starts), tuple(ends))


def fold_tags(text: str) -> str:
    """``fold_tag_input`` as a text step: just the folded text."""
    return fold_tag_input(text).text
