"""Realistic degradations of a Conversation: noise, babble, telephone, music, hum, reverb.

Each takes a Conversation (16 kHz, known utterance boundaries) and returns a new one whose
boundaries still mark where each utterance is spoken.
"""

from __future__ import annotations

import numpy as np
import scipy.signal
import soxr

from tests.audio.speech import RATE_HZ, Conversation


def speech_power(talk: Conversation) -> float:
    """Mean square of the samples inside utterances: the level SNRs are quoted against."""
    parts = [talk.samples[int(a * RATE_HZ) : int(b * RATE_HZ)] for a, b in talk.utterances]
    return float(np.mean(np.concatenate(parts).astype(np.float64) ** 2))


def coloured_noise(kind: str, length: int, seed: int = 5) -> np.ndarray:
    """White (flat) or pink (-3 dB/octave) Gaussian noise, unit power."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(length))
    if kind == "pink":
        freqs = np.fft.rfftfreq(length, 1 / RATE_HZ)
        spectrum[1:] /= np.sqrt(freqs[1:])
        spectrum[0] = 0
    noise = np.fft.irfft(spectrum, length)
    return noise / np.sqrt(np.mean(noise**2))


def add_at_snr(talk: Conversation, background: np.ndarray, snr_db: float) -> Conversation:
    """``talk`` with ``background`` (tiled to length) mixed in ``snr_db`` below the speech."""
    background = np.resize(background.astype(np.float64), len(talk.samples))
    gain = np.sqrt(speech_power(talk) / np.mean(background**2) / 10 ** (snr_db / 10))
    mixed = talk.samples + (background * gain).astype(np.float32)
    return Conversation(samples=mixed.astype(np.float32), utterances=talk.utterances)


def babble(voices: list[np.ndarray], length: int, seed: int = 9) -> np.ndarray:
    """Several voices overlapping at random offsets, time-reversed: speech-like, not words."""
    rng = np.random.default_rng(seed)
    out = np.zeros(length)
    for voice in voices:
        reversed_voice = voice[::-1].astype(np.float64)
        track = np.resize(reversed_voice, length + len(reversed_voice))
        offset = int(rng.integers(0, len(reversed_voice)))
        out += track[offset : offset + length] / np.sqrt(np.mean(reversed_voice**2))
    return out


def telephone(talk: Conversation) -> Conversation:
    """Through a phone line: 8 kHz, 300-3400 Hz band, 8-bit mu-law, back to 16 kHz."""
    narrow = soxr.resample(talk.samples, RATE_HZ, 8000, quality="HQ").astype(np.float64)
    sos = scipy.signal.butter(4, [300, 3400], btype="bandpass", fs=8000, output="sos")
    narrow = scipy.signal.sosfilt(sos, narrow)
    narrow *= 0.5 / np.abs(narrow).max()
    mu = 255.0
    encoded = np.sign(narrow) * np.log1p(mu * np.abs(narrow)) / np.log1p(mu)
    encoded = np.round(encoded * 127) / 127  # 8 bits
    decoded = np.sign(encoded) * np.expm1(np.abs(encoded) * np.log1p(mu)) / mu
    wide = soxr.resample(decoded.astype(np.float32), 8000, RATE_HZ, quality="HQ")
    return Conversation(samples=wide[: len(talk.samples)], utterances=talk.utterances)


def music_bed(length: int) -> np.ndarray:
    """Chords and a melody: plucked notes every 0.3 s over a sustained triad that changes."""
    t = np.arange(length) / RATE_HZ
    out = np.zeros(length)
    chords = [(131, 165, 196), (175, 220, 262), (196, 247, 294), (147, 175, 220)]
    notes = [523, 587, 659, 784, 659, 587, 523, 440, 494, 523]
    for i, start in enumerate(np.arange(0, t[-1], 2.0)):
        idx = (t >= start) & (t < start + 2.0)
        out[idx] += sum(np.sin(2 * np.pi * f * t[idx]) for f in chords[i % len(chords)]) * 0.3
    for i, start in enumerate(np.arange(0, t[-1], 0.3)):
        idx = (t >= start) & (t < start + 0.3)
        local = t[idx] - start
        f = notes[i % len(notes)]
        partials = sum(np.sin(2 * np.pi * f * k * local) / k**1.5 for k in range(1, 6))
        out[idx] += partials * np.exp(-4 * local)
    return out


def hum(length: int, base_hz: float = 50.0) -> np.ndarray:
    """Mains hum with its odd and even harmonics."""
    t = np.arange(length) / RATE_HZ
    return sum(np.sin(2 * np.pi * base_hz * k * t) / k for k in range(1, 8))


def scale_to_peak(talk: Conversation, peak_dbfs: float) -> Conversation:
    """``talk`` scaled so its peak is ``peak_dbfs``."""
    gain = 10 ** (peak_dbfs / 20) / np.abs(talk.samples).max()
    return Conversation(
        samples=(talk.samples * gain).astype(np.float32), utterances=talk.utterances
    )


def clipped(talk: Conversation, overdrive_db: float = 18.0) -> Conversation:
    """``talk`` driven ``overdrive_db`` past full scale and hard-clipped."""
    loud = talk.samples * np.float32(10 ** (overdrive_db / 20) / np.abs(talk.samples).max())
    return Conversation(samples=np.clip(loud, -1.0, 1.0), utterances=talk.utterances)


def reverberant(talk: Conversation, rt60_s: float = 0.4, seed: int = 13) -> Conversation:
    """``talk`` in a room: convolved with exponentially decaying noise (decays 60 dB in rt60_s)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(1.2 * rt60_s * RATE_HZ)) / RATE_HZ
    response = rng.standard_normal(len(t)) * 10 ** (-3 * t / rt60_s)
    response[0] = 3.0  # the direct path
    wet = scipy.signal.fftconvolve(talk.samples.astype(np.float64), response)[: len(talk.samples)]
    wet *= np.abs(talk.samples).max() / np.abs(wet).max()
    return Conversation(samples=wet.astype(np.float32), utterances=talk.utterances)


def pitched_up(talk: Conversation, semitones: float) -> Conversation:
    """``talk`` played faster by ``semitones`` (higher and shorter, like a smaller speaker)."""
    ratio = 2 ** (semitones / 12)
    faster = soxr.resample(talk.samples, RATE_HZ * ratio, RATE_HZ, quality="HQ")
    utterances = [(a / ratio, b / ratio) for a, b in talk.utterances]
    return Conversation(samples=faster.astype(np.float32), utterances=utterances)
