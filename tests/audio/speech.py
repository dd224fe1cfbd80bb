"""Real speech for the audio tests: espeak-ng utterances and signals built from them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.builders import espeak

RATE_HZ = 16000
AUDIO_DATA = Path(__file__).parents[1] / "data" / "audio"

SENTENCES = [
    "My dog likes to run in the park.",
    "We had pancakes for breakfast this morning.",
    "The red bus stops outside the school every day at eight.",
    "Can you help me find my other shoe?",
    "Yesterday my sister and I built a very tall tower out of blocks, and it fell down.",
    "I like apples.",
    "The teacher read us a story about a dragon who was afraid of the dark.",
    "Look at that bird!",
    "After lunch we are going to the swimming pool with grandma.",
    "My favourite colour is green because it is the colour of frogs.",
    "Where is the cat?",
    "It was raining so we stayed inside and played games all afternoon.",
    "Please pass the salt.",
    "The moon looks very big and bright tonight.",
    "When I grow up I want to be a pilot and fly all around the world.",
    "That is mine.",
    "We planted tomatoes and beans in the garden last spring.",
    "My brother is learning to ride his bicycle without help.",
    "Thank you very much.",
    "On Saturday we visited the museum and saw the bones of a dinosaur.",
    "The ice cream melted before I could finish it.",
    "Do you want to play football after school tomorrow?",
    "Our class has a hamster called Biscuit.",
    "I can count to one hundred.",
]


def utterance(text: str, voice: str = "en-us", pitch: int = 80, speed: int = 140) -> np.ndarray:
    """One espeak-ng utterance at 16 kHz (child-like pitch by default), trimmed to where it is
    audible so pauses between utterances are only the ones a test builds."""
    samples = espeak(text, voice, pitch=pitch, speed=speed, rate_hz=RATE_HZ)
    audible = np.flatnonzero(np.abs(samples) > 1e-3)
    return samples[audible[0] : audible[-1] + 1]


@dataclass(frozen=True)
class Conversation:
    """A signal of utterances with known boundaries (seconds)."""

    samples: np.ndarray
    utterances: list[tuple[float, float]]

    @property
    def duration_s(self) -> float:
        return len(self.samples) / RATE_HZ


def build_conversation(
    pieces: list[np.ndarray], pauses_s: list[float], noise_dbfs: float | None, seed: int = 0
) -> Conversation:
    """Join ``pieces`` with ``pauses_s`` of silence (after each), plus optional white noise."""
    lead = np.zeros(int(0.5 * RATE_HZ), dtype=np.float32)
    parts, utterances, position = [lead], [], len(lead)
    for piece, pause_s in zip(pieces, pauses_s, strict=True):
        utterances.append((position / RATE_HZ, (position + len(piece)) / RATE_HZ))
        gap = np.zeros(int(pause_s * RATE_HZ), dtype=np.float32)
        parts += [piece, gap]
        position += len(piece) + len(gap)
    samples = np.concatenate(parts)
    if noise_dbfs is not None:
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal(len(samples)).astype(np.float32)
        samples = samples + noise * np.float32(10 ** (noise_dbfs / 20))
    return Conversation(samples=samples.astype(np.float32), utterances=utterances)
