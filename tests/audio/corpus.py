"""The segmentation regression corpus: committed files, samples and the robustness signals.

``expected_boundaries.json`` holds the clip spans each gave before segmentation streamed
(recorded with ``python -m tests.audio.corpus``); tests/audio/test_streaming.py checks the
streaming path gives the same.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from tests.audio import degrade
from tests.audio.speech import (
    AUDIO_DATA,
    RATE_HZ,
    SENTENCES,
    Conversation,
    build_conversation,
    utterance,
)
from tests.audio.test_robustness import (
    CONDITIONS,
    _pauses,
    conversation_under,
    make_babble_voices,
    make_child_talk,
    make_slow_reading,
    make_voices,
)

EXPECTED = AUDIO_DATA / "expected_boundaries.json"
ROOT = Path(__file__).parents[2]
SAMPLES = ROOT / "samples"
MAX_CLIP_S = 15.0


def corpus_files() -> list[Path]:
    """Every committed audio file the pipeline is tested on: fixtures and the demo samples."""
    files = sorted(p for p in AUDIO_DATA.iterdir() if p.suffix in {".wav", ".flac", ".wv"})
    kinds = {".wav", ".flac", ".ogg", ".mp3"}
    return files + sorted(p for p in SAMPLES.rglob("*") if p.suffix in kinds)


def corpus_signals() -> Iterator[tuple[str, np.ndarray]]:
    """16 kHz signals of the robustness tests, each under its own name."""
    voices = make_voices()
    talk = build_conversation(voices, _pauses(len(voices), np.random.default_rng(4)), -70.0)
    others = make_babble_voices()
    for name in CONDITIONS:
        yield name, conversation_under(name, talk, others).samples
    yield "child", make_child_talk().samples
    yield "slow_reading", make_slow_reading().samples
    lead = np.zeros(6 * RATE_HZ, dtype=np.float32)
    shifted = Conversation(np.concatenate([lead, talk.samples, lead]), talk.utterances)
    music = degrade.music_bed(len(shifted.samples))
    yield "music_bed", degrade.add_at_snr(shifted, music, 15.0).samples
    rng = np.random.default_rng(3)
    sentences = [utterance(text) for text in SENTENCES[:12]]
    run = build_conversation(sentences, list(rng.uniform(0.15, 0.25, 12)), -70.0)
    yield "long_run", run.samples


def record() -> None:
    """Write the spans today's code gives for the whole corpus (run once, before a change)."""
    import tempfile

    from audio.pipeline import process_recording
    from audio.segment import SegmentConfig, segment_speech

    config = SegmentConfig(max_clip_s=MAX_CLIP_S)
    expected: dict[str, dict] = {"files": {}, "signals": {}}
    with tempfile.TemporaryDirectory() as clips:
        for path in corpus_files():
            outcome = process_recording(path, Path(clips), config)
            key = str(path.relative_to(ROOT))
            expected["files"][key] = {
                "status": outcome.status,
                "spans": [[c.span.start_s, c.span.end_s] for c in outcome.clips],
            }
    for name, samples in corpus_signals():
        spans = segment_speech(samples, RATE_HZ, config)
        expected["signals"][name] = [[s.start_s, s.end_s] for s in spans]
    lines = [
        f'"{group}": {{\n'
        + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in rows.items())
        for group, rows in expected.items()
    ]
    EXPECTED.write_text("{\n" + "\n},\n".join(lines) + "\n}\n}\n")
    print(f"wrote {EXPECTED}", file=sys.stderr)


if __name__ == "__main__":
    record()
