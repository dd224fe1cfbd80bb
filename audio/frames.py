"""Framing a 16 kHz signal once: webrtcvad decisions and frame energies as numpy arrays."""

from __future__ import annotations

import numpy as np
import webrtcvad

VAD_FRAME_S = 0.03
ENERGY_HOP_S = 0.01
_SILENCE_POWER = 1e-10  # -100 dBFS: the floor for log energies of digital silence


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] as int16 PCM, the only input webrtcvad takes."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)


def voiced_frames(pcm16: np.ndarray, sample_rate_hz: int, aggressiveness: int) -> np.ndarray:
    """webrtcvad's speech decision for each whole 30 ms frame (bool array)."""
    vad = webrtcvad.Vad(aggressiveness)
    frame_len = int(sample_rate_hz * VAD_FRAME_S)
    count = len(pcm16) // frame_len
    # One bytes object for the whole signal; slicing it is the cheapest frame hand-off.
    data = pcm16[: count * frame_len].tobytes()
    step = frame_len * 2
    is_speech = vad.is_speech
    return np.fromiter(
        (is_speech(data[i : i + step], sample_rate_hz) for i in range(0, count * step, step)),
        dtype=bool,
        count=count,
    )


def frame_power(
    samples: np.ndarray, sample_rate_hz: int, hop_s: float = ENERGY_HOP_S
) -> np.ndarray:
    """Mean square of each whole ``hop_s`` frame (float64)."""
    hop = int(round(sample_rate_hz * hop_s))
    count = len(samples) // hop
    frames = samples[: count * hop].reshape(count, hop)
    return np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / hop


def power_db(power: np.ndarray | float) -> np.ndarray:
    """Power to dB re full scale, with digital silence floored at -100 dB."""
    return 10.0 * np.log10(np.maximum(power, _SILENCE_POWER))
