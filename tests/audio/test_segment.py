"""Segmentation: clips of whole utterances, cut in pauses, nothing from noise."""

from __future__ import annotations

import numpy as np
import pytest

from audio.frames import VoiceDetector, to_pcm16, voiced_frames
from audio.segment import SegmentConfig, Span, segment_speech
from tests.audio.speech import RATE_HZ, Conversation, build_conversation, utterance

TOLERANCE_S = 0.03  # one VAD frame


def _cuts_inside_speech(spans: list[Span], utterances: list[tuple[float, float]]) -> list[float]:
    edges = [edge for span in spans for edge in (span.start_s, span.end_s)]
    return [
        edge
        for edge in edges
        for start, end in utterances
        if start + TOLERANCE_S < edge < end - TOLERANCE_S
    ]


def _whole_inside(utterance: tuple[float, float], spans: list[Span]) -> bool:
    start, end = utterance
    return any(s.start_s <= start + TOLERANCE_S and s.end_s >= end - TOLERANCE_S for s in spans)


def _covered_s(utterance: tuple[float, float], spans: list[Span]) -> float:
    start, end = utterance
    return sum(max(0.0, min(end, s.end_s) - max(start, s.start_s)) for s in spans)


def test_long_segment_is_split_in_a_pause(sentences: list[np.ndarray]) -> None:
    # 40 s of sentences with only 0.15-0.25 s between them: one VAD segment, must be cut.
    rng = np.random.default_rng(3)
    pieces = sentences[:12]
    talk = build_conversation(pieces, list(rng.uniform(0.15, 0.25, len(pieces))), -70.0)
    spans = segment_speech(talk.samples, RATE_HZ, SegmentConfig())
    assert len(spans) >= 3
    assert _cuts_inside_speech(spans, talk.utterances) == []
    assert all(_whole_inside(u, spans) for u in talk.utterances)


@pytest.mark.parametrize("max_clip_s", [4.0, 8.0, 15.0])
def test_no_clip_exceeds_max_clip_s(conversation: Conversation, max_clip_s: float) -> None:
    config = SegmentConfig(max_clip_s=max_clip_s)
    spans = segment_speech(conversation.samples, RATE_HZ, config)
    assert spans
    assert max(span.duration_s for span in spans) <= max_clip_s + 1e-6


def test_conversation_utterances_land_whole_in_clips(conversation: Conversation) -> None:
    spans = segment_speech(conversation.samples, RATE_HZ, SegmentConfig())
    whole = sum(_whole_inside(u, spans) for u in conversation.utterances)
    speech_s = sum(end - start for start, end in conversation.utterances)
    covered_s = sum(_covered_s(u, spans) for u in conversation.utterances)
    assert whole / len(conversation.utterances) >= 0.95
    assert covered_s / speech_s >= 0.98
    # Runs longer than 15 s exist, so clips were split, and only in pauses.
    assert len(spans) > 1
    assert _cuts_inside_speech(spans, conversation.utterances) == []


def test_padding_never_overlaps_neighbours(sentences: list[np.ndarray]) -> None:
    talk = build_conversation(sentences[:8], [0.45, 0.6, 0.45, 1.2, 0.5, 0.45, 0.8, 0.5], None)
    config = SegmentConfig(pad_s=0.3, merge_gap_s=0.2)
    spans = segment_speech(talk.samples, RATE_HZ, config)
    assert len(spans) == 8
    for left, right in zip(spans, spans[1:], strict=False):
        assert left.end_s <= right.start_s
    # Every utterance keeps some lead-in and tail, and no clip leaves the recording.
    assert spans[0].start_s >= 0.0 and spans[-1].end_s <= talk.duration_s
    for start, end in talk.utterances:
        owner = next(s for s in spans if s.start_s <= start <= s.end_s)
        assert start - owner.start_s >= 0.1
        assert owner.end_s - end >= 0.1 or owner.end_s >= talk.duration_s


def _noise(kind: str, seconds: float = 8.0) -> np.ndarray:
    rng = np.random.default_rng(11)
    t = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    if kind == "silence":
        return np.zeros_like(t, dtype=np.float32)
    if kind in ("white", "pink", "brown"):
        spectrum = np.fft.rfft(rng.standard_normal(len(t)))
        freqs = np.fft.rfftfreq(len(t), 1 / RATE_HZ)
        slope = {"white": 0.0, "pink": 0.5, "brown": 1.0}[kind]
        spectrum[1:] /= freqs[1:] ** slope
        signal = np.fft.irfft(spectrum, len(t))
    elif kind.startswith("hum"):
        base = float(kind[3:])
        signal = sum(np.sin(2 * np.pi * base * k * t) / k for k in range(1, 8))
    elif kind == "tone":
        signal = np.sin(2 * np.pi * 440 * t)
    elif kind == "chord_tremolo":
        chord = sum(np.sin(2 * np.pi * f * t) for f in (220, 277, 330))
        signal = chord * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    elif kind == "melody":
        # A music bed: plucked-string notes (harmonics, decaying) changing every 0.4 s.
        notes = [262, 330, 392, 523, 440, 349, 294, 392]
        signal = np.zeros_like(t)
        for i, start in enumerate(np.arange(0, seconds, 0.4)):
            idx = (t >= start) & (t < start + 0.4)
            local = t[idx] - start
            f = notes[i % len(notes)]
            partials = sum(np.sin(2 * np.pi * f * k * local) / k**1.5 for k in range(1, 6))
            signal[idx] = partials * np.exp(-3 * local)
    else:
        raise ValueError(kind)
    signal = np.asarray(signal, dtype=np.float64)
    return (0.3 * signal / np.abs(signal).max()).astype(np.float32)


@pytest.mark.parametrize(
    "kind",
    ["silence", "white", "pink", "brown", "hum50", "hum60", "tone", "chord_tremolo", "melody"],
)
@pytest.mark.parametrize("aggressiveness", [0, 2, 3])
def test_noise_only_recordings_give_no_clips(kind: str, aggressiveness: int) -> None:
    config = SegmentConfig(aggressiveness=aggressiveness)
    assert segment_speech(_noise(kind), RATE_HZ, config) == []


@pytest.mark.parametrize("kind", ["pink", "white", "hum50", "melody"])
def test_speech_over_background_is_kept(sentences: list[np.ndarray], kind: str) -> None:
    talk = build_conversation(sentences[:3], [0.8, 0.8, 0.8], None)
    speech_power = np.mean(np.concatenate(sentences[:3]) ** 2)
    background = np.resize(_noise(kind), len(talk.samples)).astype(np.float64)
    background *= np.sqrt(speech_power / np.mean(background**2) / 10)  # 10 dB SNR
    spans = segment_speech(talk.samples + background.astype(np.float32), RATE_HZ, SegmentConfig())
    assert all(_whole_inside(u, spans) for u in talk.utterances)


def test_blips_too_short_to_transcribe_are_dropped(sentences: list[np.ndarray]) -> None:
    click = utterance("ah")[: int(0.12 * RATE_HZ)]
    talk = build_conversation([click, sentences[0]], [2.0, 0.5], None)
    spans = segment_speech(talk.samples, RATE_HZ, SegmentConfig())
    assert len(spans) == 1
    assert _whole_inside(talk.utterances[1], spans)


@pytest.mark.parametrize("voice", ["yue", "cmn"])
def test_chinese_speech_is_segmented(voice: str) -> None:
    texts = ("今天天气很好。", "我们去公园玩吧。")
    pieces = [utterance(text, voice=voice, pitch=50, speed=160) for text in texts]
    talk = build_conversation(pieces, [1.0, 0.5], -65.0)
    spans = segment_speech(talk.samples, RATE_HZ, SegmentConfig())
    assert len(spans) == 2
    assert all(_whole_inside(u, spans) for u in talk.utterances)


def test_vad_fed_in_blocks_while_decoding_matches_the_whole_signal(conversation) -> None:
    whole = voiced_frames(to_pcm16(conversation.samples), RATE_HZ, 2)
    detector = VoiceDetector(RATE_HZ, 2)
    for start in range(0, len(conversation.samples), 23_777):  # blocks cut mid-frame
        detector.feed(conversation.samples[start : start + 23_777])
    np.testing.assert_array_equal(detector.voiced(), whole)
