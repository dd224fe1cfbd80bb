"""Fixtures for the audio tests: real speech from espeak-ng (builders in ``tests.audio.speech``)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tests.audio.speech import AUDIO_DATA, SENTENCES, Conversation, build_conversation, utterance


@pytest.fixture(scope="session")
def sentences() -> list[np.ndarray]:
    """Each of SENTENCES spoken by espeak-ng at a child-like pitch."""
    return [utterance(text) for text in SENTENCES]


@pytest.fixture(scope="session")
def conversation(sentences: list[np.ndarray]) -> Conversation:
    """24 utterances, pauses of 0.3-1.5 s, and runs of sentences back to back (>15 s)."""
    rng = np.random.default_rng(7)
    pauses = list(rng.uniform(0.3, 1.5, len(sentences)))
    # Two runs of 5 and 7 sentences with only a breath between them: each lasts > 15 s.
    for run in (range(2, 7), range(12, 19)):
        for i in run[:-1]:
            pauses[i] = float(rng.uniform(0.12, 0.2))
    return build_conversation(sentences, pauses, noise_dbfs=-65.0)


@pytest.fixture
def speech_en() -> tuple[np.ndarray, int]:
    """The committed English fixture at its own rate (22.05 kHz)."""
    samples, rate = sf.read(AUDIO_DATA / "speech_en.flac", dtype="float32")
    return samples, rate
