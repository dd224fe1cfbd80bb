"""Segmentation under the recordings real people make: noise, babble, phone lines, music,
hum, quiet and clipped levels, rooms, children's voices and slow reading with long pauses.

Each condition degrades one conversation of 24 espeak-ng utterances (English, Cantonese,
Mandarin; pitches 20-90, speeds 120-190) with known boundaries and checks what the
transcribers will see: >=95 % of utterances whole inside one clip, >=98 % of speech time
inside clips, no clip over the limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from audio.segment import SegmentConfig, Span, segment_speech
from tests.audio import degrade
from tests.audio.speech import RATE_HZ, SENTENCES, Conversation, build_conversation, utterance

TOLERANCE_S = 0.03  # one VAD frame
CHINESE = [
    ("yue", "今日天氣好好，我哋去公園玩啦。"),
    ("cmn", "我们明天早上八点在学校门口见面。"),
    ("yue", "呢個蘋果幾多錢一斤呀？"),
    ("cmn", "你吃过饭了吗？"),
    ("yue", "佢哋琴日去咗街市買菜同埋買魚。"),
    ("cmn", "这本书很有意思，我已经看了两遍。"),
    ("yue", "唔該你講慢啲。"),
    ("cmn", "请把窗户打开，房间里太热了。"),
]
SLOW_PHRASES = [
    ["The little boat", "sailed across", "the lake."],
    ["My grandmother", "makes the best", "apple pie", "in our town."],
    ["Once upon a time", "there was", "a clever fox."],
    ["I put my boots on", "and went outside", "to play in the snow."],
    ["The big brown dog", "jumped over", "the garden fence."],
    ["We saw", "a rainbow", "after the storm."],
]
MAX_CLIP_S = 15.0


@dataclass(frozen=True)
class Score:
    """What transcribers would get: utterances whole in a clip, speech time covered."""

    whole: float
    coverage: float
    longest_s: float

    def __str__(self) -> str:
        return f"whole {self.whole:.1%} coverage {self.coverage:.1%} longest {self.longest_s:.2f} s"


def score(talk: Conversation, spans: list[Span]) -> Score:
    """Share of utterances inside one clip and share of speech time inside any clip."""
    whole = sum(
        any(s.start_s <= a + TOLERANCE_S and s.end_s >= b - TOLERANCE_S for s in spans)
        for a, b in talk.utterances
    )
    speech_s = sum(b - a for a, b in talk.utterances)
    covered_s = sum(
        max(0.0, min(b, s.end_s) - max(a, s.start_s)) for a, b in talk.utterances for s in spans
    )
    return Score(
        whole=whole / len(talk.utterances),
        coverage=covered_s / speech_s,
        longest_s=max((s.duration_s for s in spans), default=0.0),
    )


def _pauses(count: int, rng: np.random.Generator) -> list[float]:
    pauses = list(rng.uniform(0.35, 1.4, count))
    for i in range(8, 13):  # a run with only breaths between utterances: must be split
        pauses[i] = float(rng.uniform(0.15, 0.25))
    return pauses


def make_voices() -> list[np.ndarray]:
    """24 utterances: English and Chinese, low to high pitch, slow to fast."""
    rng = np.random.default_rng(21)
    pieces = []
    for i, text in enumerate(SENTENCES[:16]):
        pieces.append(
            utterance(text, "en-us", int(rng.integers(20, 91)), int(rng.integers(120, 191)))
        )
        if i % 2 == 1:
            voice, chinese = CHINESE[i // 2]
            pieces.append(
                utterance(chinese, voice, int(rng.integers(20, 91)), int(rng.integers(120, 191)))
            )
    return pieces


@pytest.fixture(scope="session")
def talk() -> Conversation:
    """The voices with pauses of 0.35-1.4 s and one run of breath-length pauses, -70 dBFS floor."""
    voices = make_voices()
    return build_conversation(voices, _pauses(len(voices), np.random.default_rng(4)), -70.0)


def make_babble_voices() -> list[np.ndarray]:
    """Six other talkers for babble (reversed later, so nothing in it is transcribable)."""
    texts = SENTENCES[16:22]
    return [
        utterance(t, v, p, 160)
        for t, v, p in zip(texts, ["en-us", "yue", "en-us"] * 2, range(30, 90, 10), strict=True)
    ]


@pytest.fixture(scope="session")
def babble_voices() -> list[np.ndarray]:
    """See make_babble_voices."""
    return make_babble_voices()


def _noisy(kind: str, snr_db: float) -> Callable[[Conversation, list[np.ndarray]], Conversation]:
    def build(talk: Conversation, others: list[np.ndarray]) -> Conversation:
        return degrade.add_at_snr(talk, degrade.coloured_noise(kind, len(talk.samples)), snr_db)

    return build


CONDITIONS: dict[str, Callable[[Conversation, list[np.ndarray]], Conversation]] = {
    "clean": lambda talk, others: talk,
    "pink_20db": _noisy("pink", 20),
    "pink_10db": _noisy("pink", 10),
    "pink_5db": _noisy("pink", 5),
    "white_20db": _noisy("white", 20),
    "white_10db": _noisy("white", 10),
    "white_5db": _noisy("white", 5),
    "babble_10db": lambda talk, others: degrade.add_at_snr(
        talk, degrade.babble(others, len(talk.samples)), 10
    ),
    "telephone": lambda talk, others: degrade.telephone(
        degrade.add_at_snr(talk, degrade.coloured_noise("pink", len(talk.samples)), 30)
    ),
    "hum50_10db": lambda talk, others: degrade.add_at_snr(talk, degrade.hum(len(talk.samples)), 10),
    "quiet_-30dbfs": lambda talk, others: degrade.scale_to_peak(talk, -30.0),
    "clipped": lambda talk, others: degrade.clipped(talk),
    "reverb_0.4s": lambda talk, others: degrade.reverberant(talk),
}


def conversation_under(name: str, talk: Conversation, others: list[np.ndarray]) -> Conversation:
    """The test conversation degraded by condition ``name``."""
    return CONDITIONS[name](talk, others)


@pytest.mark.parametrize("condition", list(CONDITIONS))
def test_utterances_land_whole_in_clips_under(
    condition: str, talk: Conversation, babble_voices: list[np.ndarray]
) -> None:
    degraded = conversation_under(condition, talk, babble_voices)
    spans = segment_speech(degraded.samples, RATE_HZ, SegmentConfig(max_clip_s=MAX_CLIP_S))
    result = score(degraded, spans)
    assert result.whole >= 0.95, result
    assert result.coverage >= 0.98, result
    assert result.longest_s <= MAX_CLIP_S + 1e-6, result


def make_child_talk() -> Conversation:
    """Children: espeak at pitch 90, raised 4 semitones (higher and quicker), in light noise."""
    pieces = [utterance(text, "en-us", 90, 150) for text in SENTENCES[:20]]
    rng = np.random.default_rng(8)
    talk = build_conversation(pieces, list(rng.uniform(0.4, 1.2, len(pieces))), -60.0)
    return degrade.pitched_up(talk, 4.0)


@pytest.fixture(scope="session")
def child_talk() -> Conversation:
    """See make_child_talk."""
    return make_child_talk()


def test_children_high_voices_land_whole_in_clips(child_talk: Conversation) -> None:
    spans = segment_speech(child_talk.samples, RATE_HZ, SegmentConfig(max_clip_s=MAX_CLIP_S))
    result = score(child_talk, spans)
    assert result.whole >= 0.95 and result.coverage >= 0.98, result
    assert result.longest_s <= MAX_CLIP_S + 1e-6


def make_slow_reading() -> Conversation:
    """A child reading slowly: 20 sentences read phrase by phrase, 0.5-0.9 s stops inside."""
    rng = np.random.default_rng(12)
    sentences = []
    for i in range(20):
        phrases = SLOW_PHRASES[i % len(SLOW_PHRASES)]
        pitch = int(rng.integers(40, 91))
        gaps = [np.zeros(int(rng.uniform(0.5, 0.9) * RATE_HZ), dtype=np.float32) for _ in phrases]
        parts = [utterance(p, "en-us", pitch, 120) for p in phrases]
        sentence = np.concatenate(
            [x for part, gap in zip(parts, gaps, strict=True) for x in (part, gap)][:-1]
        )
        sentences.append(sentence)
    pauses = list(rng.uniform(1.5, 2.5, len(sentences)))
    return build_conversation(sentences, pauses, -60.0)


@pytest.fixture(scope="session")
def slow_reading() -> Conversation:
    """See make_slow_reading."""
    return make_slow_reading()


def test_slow_reading_with_pauses_inside_sentences_keeps_sentences_whole(
    slow_reading: Conversation,
) -> None:
    spans = segment_speech(slow_reading.samples, RATE_HZ, SegmentConfig(max_clip_s=MAX_CLIP_S))
    result = score(slow_reading, spans)
    assert result.whole >= 0.95 and result.coverage >= 0.98, result
    assert result.longest_s <= MAX_CLIP_S + 1e-6


def test_speech_over_a_music_bed_is_kept_but_music_alone_is_not(
    talk: Conversation,
) -> None:
    lead_s = 6.0
    lead = np.zeros(int(lead_s * RATE_HZ), dtype=np.float32)
    samples = np.concatenate([lead, talk.samples, lead])
    shifted = Conversation(samples, [(a + lead_s, b + lead_s) for a, b in talk.utterances])
    music = degrade.music_bed(len(samples))
    mixed = degrade.add_at_snr(shifted, music, 15.0)
    spans = segment_speech(mixed.samples, RATE_HZ, SegmentConfig(max_clip_s=MAX_CLIP_S))
    result = score(mixed, spans)
    assert result.whole >= 0.95 and result.coverage >= 0.98, result
    # Music alone, before the first and after the last word, is not sent to transcribers:
    # every clip holds speech, and reaches into the music only by its padding and the
    # ~0.3 s the steadiness measure needs to see the music start.
    assert all(any(s.start_s < b and s.end_s > a for a, b in mixed.utterances) for s in spans)
    first_s, last_s = mixed.utterances[0][0], mixed.utterances[-1][1]
    assert spans[0].start_s >= first_s - 1.2
    assert spans[-1].end_s <= last_s + 1.2
