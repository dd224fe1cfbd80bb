"""Clips per second through the agreement path for 3-way overlap: normalisation, pairwise
WER/CER, consensus, and all three from cold. Transcripts are generated to look like real
submissions (English child speech, Cantonese in traditional characters, Mandarin), each clip with
three versions that differ the way people differ: case, punctuation, a misheard word, a dropped
repetition, traditional vs simplified, full-width letters, a missed [noise].

Run: .venv/bin/python bench/agreement.py [clips] [runs]
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable

from review.agreement import pairwise_error_rates
from review.consensus import decide_consensus
from review.normalize import normalize
from review.script import convert

ENGLISH = [
    "i",
    "want",
    "the",
    "big",
    "red",
    "ball",
    "and",
    "then",
    "we",
    "went",
    "to",
    "the",
    "park",
    "with",
    "my",
    "mummy",
    "daddy",
    "dog",
    "cat",
    "it",
    "was",
    "really",
    "fun",
    "because",
    "he",
    "goed",
    "runned",
    "there",
    "tomorrow",
    "school",
    "teacher",
    "said",
    "no",
    "yes",
    "look",
    "at",
    "that",
    "one",
]
ENGLISH_EXTRA = ["um", "uh", "er", "[noise]", "[laugh]", "((ball))", "bi-", "[unintelligible]"]
CANTONESE = "我哋今日去咗公園玩媽媽話會落雨佢好鍾意食雪糕點解唔得㗎喎嘅係咩有冇"
MANDARIN = "我们今天去公园玩妈妈说会下雨他很喜欢吃冰淇淋为什么不行的是吗有没有西安面馆"
CHINESE_EXTRA = ["嗯", "呃", "啊", "[noise]", "[laugh]", "((公))", "公-"]
PUNCTUATION_EN = [",", ".", "?", "!"]
PUNCTUATION_ZH = ["，", "。", "？", "！", "、"]


def _english_truth(rng: random.Random) -> list[str]:
    words = [rng.choice(ENGLISH) for _ in range(rng.randint(4, 18))]
    for _ in range(rng.randint(0, 3)):
        words.insert(rng.randrange(len(words) + 1), rng.choice(ENGLISH_EXTRA))
    if rng.random() < 0.4:  # a child's repetition
        at = rng.randrange(len(words))
        words.insert(at, words[at])
    return words


def _chinese_truth(rng: random.Random, characters: str) -> list[str]:
    chars = [rng.choice(characters) for _ in range(rng.randint(5, 25))]
    for _ in range(rng.randint(0, 2)):
        chars.insert(rng.randrange(len(chars) + 1), rng.choice(CHINESE_EXTRA))
    return chars


def _vary(rng: random.Random, tokens: list[str], pool: str | list[str], chinese: bool) -> str:
    out = list(tokens)
    if rng.random() < 0.5:
        out[rng.randrange(len(out))] = rng.choice(pool)
    if rng.random() < 0.3 and len(out) > 2:
        del out[rng.randrange(len(out))]
    if rng.random() < 0.3:
        out = [t for t in out if t != "[noise]"]
    if rng.random() < 0.5:
        out.insert(
            rng.randrange(len(out) + 1), rng.choice(PUNCTUATION_ZH if chinese else PUNCTUATION_EN)
        )
    if chinese:
        text = "".join(t if not t.startswith(("[", "((")) else f" {t} " for t in out)
        if rng.random() < 0.3:
            text = text.replace("我们", "我們").replace("妈妈", "媽媽")
        if rng.random() < 0.2:
            text += " ＯＫ"
        return text.strip()
    text = " ".join(out)
    return text.capitalize() if rng.random() < 0.5 else text


def generate_clips(count: int, seed: int = 1) -> list[tuple[str, list[str]]]:
    """(language, three transcripts) per clip: half English child speech, a quarter each
    Cantonese and Mandarin (Shaanxi)."""
    rng = random.Random(seed)
    clips = []
    for index in range(count):
        kind = index % 4
        if kind < 2:
            truth, language, pool, chinese = _english_truth(rng), "en", ENGLISH, False
        elif kind == 2:
            truth, language, pool, chinese = _chinese_truth(rng, CANTONESE), "yue", CANTONESE, True
        else:
            truth, language, pool, chinese = (
                _chinese_truth(rng, MANDARIN),
                "cmn-shaanxi",
                MANDARIN,
                True,
            )
        clips.append((language, [_vary(rng, truth, pool, chinese) for _ in range(3)]))
    return clips


def _cold() -> None:
    normalize.cache_clear()
    convert.cache_clear()


def _timed(action: Callable[[], None], prepare: Callable[[], None]) -> float:
    # CPU time of this process: the figure is per core, and the machine is shared.
    prepare()
    started = time.process_time()
    action()
    return time.process_time() - started


def main(clip_count: int = 4000, runs: int = 5) -> None:
    """Print clips per second per stage, medians of ``runs`` runs."""
    clips = generate_clips(clip_count)

    def normalise_all() -> None:
        for language, texts in clips:
            for text in texts:
                normalize(text, language)

    def pairwise_all() -> None:
        for language, texts in clips:
            pairwise_error_rates(texts, language)

    def consensus_all() -> None:
        for language, texts in clips:
            decide_consensus(texts, language)

    def everything() -> None:
        for language, texts in clips:
            pairwise_error_rates(texts, language)
            decide_consensus(texts, language)

    stages = [
        ("normalise (cold cache)", normalise_all, _cold),
        ("pairwise WER/CER (normalised)", pairwise_all, normalise_all),
        ("consensus (normalised)", consensus_all, normalise_all),
        ("total from cold", everything, _cold),
    ]
    methods: dict[str, int] = {}
    for language, texts in clips:
        method = decide_consensus(texts, language).method
        methods[method] = methods.get(method, 0) + 1
    print(
        f"{clip_count} clips x 3 transcripts (en child, yue, cmn-shaanxi); "
        f"CPU time, median of {runs} runs"
    )
    print(f"consensus methods: {methods}")
    for name, action, prepare in stages:
        seconds = statistics.median(_timed(action, prepare) for _ in range(runs))
        print(
            f"{name:32s} {clip_count / seconds:>10,.0f} clips/s  "
            f"({seconds / clip_count * 1e6:,.1f} us/clip)"
        )


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:3]]
    main(*arguments)
