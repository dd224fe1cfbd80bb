"""Framing a 16 kHz signal once: webrtcvad decisions and frame energies as numpy arrays.

``FrameMeter`` takes the signal block by block as it is decoded, so the measures of a
recording of any length are made without holding its samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import _webrtcvad
import numpy as np
import webrtcvad

VAD_FRAME_S = 0.03
ENERGY_HOP_S = 0.01
_SILENCE_POWER = 1e-10  # -100 dBFS: the floor for log energies of digital silence


_PCM_BLOCK = 1 << 16


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] as int16 PCM, the only input webrtcvad takes."""
    pcm = np.empty(len(samples), dtype=np.int16)
    scratch = np.empty(min(len(samples), _PCM_BLOCK), dtype=np.float32)
    # Block by block through one cache-sized scratch buffer: 3x faster than whole-array
    # temporaries on a half-hour recording, which are mostly page faults.
    for start in range(0, len(samples), _PCM_BLOCK):
        block = samples[start : start + _PCM_BLOCK]
        work = scratch[: len(block)]
        np.multiply(block, np.float32(32767.0), out=work)
        np.clip(work, -32767.0, 32767.0, out=work)
        pcm[start : start + len(block)] = work
    return pcm


def voiced_frames(pcm16: np.ndarray, sample_rate_hz: int, aggressiveness: int) -> np.ndarray:
    """webrtcvad's speech decision for each whole 30 ms frame (bool array)."""
    return _decide(webrtcvad.Vad(aggressiveness), pcm16, sample_rate_hz)


def _decide(vad: webrtcvad.Vad, pcm16: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    frame_len = int(sample_rate_hz * VAD_FRAME_S)
    count = len(pcm16) // frame_len
    # One bytes object for the whole signal; slicing it is the cheapest frame hand-off.
    data = pcm16[: count * frame_len].tobytes()
    step = frame_len * 2
    # Vad.is_speech only re-checks the length we already guarantee; calling the extension
    # directly saves a third of the VAD time.
    process, handle = _webrtcvad.process, vad._vad
    return np.fromiter(
        (
            process(handle, sample_rate_hz, data[i : i + step], frame_len)
            for i in range(0, count * step, step)
        ),
        dtype=bool,
        count=count,
    )


class VoiceDetector:
    """webrtcvad over a signal that arrives in blocks (while it is still being decoded).

    Gives exactly ``voiced_frames`` of the whole signal: frames are counted from its start
    and a partial frame waits for the next block.
    """

    def __init__(self, sample_rate_hz: int, aggressiveness: int) -> None:
        self.sample_rate_hz = sample_rate_hz
        # One Vad throughout: it adapts its noise estimate as it goes.
        self._vad = webrtcvad.Vad(aggressiveness)
        self._pending = np.zeros(0, dtype=np.int16)
        self._decisions: list[np.ndarray] = []

    def feed(self, samples: np.ndarray) -> None:
        """Decide the whole frames now available."""
        pcm = np.concatenate((self._pending, to_pcm16(samples)))
        frame_len = int(self.sample_rate_hz * VAD_FRAME_S)
        whole = len(pcm) // frame_len * frame_len
        self._decisions.append(_decide(self._vad, pcm[:whole], self.sample_rate_hz))
        self._pending = pcm[whole:]

    def voiced(self) -> np.ndarray:
        """Decisions for every whole frame fed so far."""
        return np.concatenate(self._decisions) if self._decisions else np.zeros(0, dtype=bool)


@dataclass(frozen=True)
class SignalFrames:
    """Per-frame measures of a whole signal: all segmentation and quality need from it."""

    voiced: np.ndarray
    """webrtcvad decision per 30 ms frame."""
    power: np.ndarray
    """Mean square per 10 ms frame."""
    edge_power: np.ndarray
    """Mean square of the first difference per 10 ms frame (pre-emphasised level)."""
    length: int
    """Samples in the signal."""


class FrameMeter:
    """Measures ``SignalFrames`` of a signal fed in blocks of any size, as it is decoded.

    Gives exactly what measuring the whole signal at once would: frames are counted from
    the start and a partial frame waits for the next block.
    """

    def __init__(self, sample_rate_hz: int, aggressiveness: int) -> None:
        self.sample_rate_hz = sample_rate_hz
        self._detector = VoiceDetector(sample_rate_hz, aggressiveness)
        self._hop = int(round(sample_rate_hz * ENERGY_HOP_S))
        # Samples from the first frame whose edge power is not yet known; the first
        # ``_measured`` frames of it already have their power.
        self._pending = np.zeros(0, dtype=np.float32)
        self._measured = 0
        self._power: list[np.ndarray] = []
        self._edge_power: list[np.ndarray] = []
        self._length = 0

    def feed(self, samples: np.ndarray) -> None:
        """Measure the whole frames now available."""
        self._detector.feed(samples)
        self._length += len(samples)
        hop = self._hop
        signal = np.concatenate((self._pending, samples))
        whole = len(signal) // hop
        self._power.append(
            frame_power(signal[self._measured * hop : whole * hop], self.sample_rate_hz)
        )
        # A frame's first difference needs the first sample of the next frame.
        edged = max(len(signal) - 1, 0) // hop
        diff = np.diff(signal[: edged * hop + 1])
        self._edge_power.append(frame_power(diff, self.sample_rate_hz))
        self._pending = signal[edged * hop :]
        self._measured = whole - edged

    def frames(self) -> SignalFrames:
        """The measures of everything fed so far."""
        return SignalFrames(
            voiced=self._detector.voiced(),
            power=_joined(self._power, np.float64),
            edge_power=_joined(self._edge_power, np.float64),
            length=self._length,
        )


def measure_frames(samples: np.ndarray, sample_rate_hz: int, aggressiveness: int) -> SignalFrames:
    """``SignalFrames`` of a signal held in memory (measured in blocks, as when streaming)."""
    meter = FrameMeter(sample_rate_hz, aggressiveness)
    for start in range(0, len(samples), _PCM_BLOCK):
        meter.feed(samples[start : start + _PCM_BLOCK])
    return meter.frames()


def _joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


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
