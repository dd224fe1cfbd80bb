"""Is a voiced stretch speech, or noise, hum, a tone or a music bed that fooled webrtcvad?

webrtcvad fires on anything loud with energy in the speech band. Three cheap spectral
measures on a sample of 32 ms frames tell speech apart:
- spectral flatness (300-4000 Hz, 25th percentile of frames): noise is flat (white ~0.5,
  pink ~0.4, brown ~0.17); speech has harmonics and formants (~0.005 clean, 0.2 at 5 dB SNR).
- stationarity: median correlation of log spectra 100 ms apart. Speech changes phone every
  ~80 ms (~0.2; <0.55 over a music bed); hum, tones and held notes keep theirs (>0.88;
  synthetic ones 0.99+). A short word with a long vowel reaches 0.93, so a strongly
  modulated stretch is allowed up to 0.95. The same correlation, run along a stretch,
  finds steady music before or after the talk, to trim it off.
- level modulation: 10th-90th percentile spread of the frames' band levels. Syllables and
  gaps make speech's spread large (>8 dB even at 5 dB SNR); steady noise, hum and
  sustained chords barely move (<4 dB).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

_FFT_LEN = 512
_STEP_S = 0.04  # one frame pair every 40 ms (> frame length, so frames never overlap)
_LAG_S = 0.1
_BAND_HZ = (300.0, 4000.0)
_ACTIVE_RANGE_DB = 35.0  # frames this far below the loudest are pauses, not evidence
_WINDOW = np.hanning(_FFT_LEN).astype(np.float32)
_STEADY_CORRELATION = 0.95  # held notes, chords and hum; speech, even a long vowel, is below
_STEADY_RUN = 7  # frames (0.28 s) whose median correlation decides if an edge is steady
_MIN_TRIM_S = 0.5  # shorter steady edges are kept: too short to be a music bed
_POCKETFFT = "scipy.fft._pocketfft.pypocketfft"
_BATCH_FRAMES = 256  # frames measured per read: 10 s of signal, ~1 MiB of spectra


class Samples(Protocol):
    """A mono float signal: an array, or a recording spilled to disk, sliced like one."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: slice) -> np.ndarray: ...


@dataclass(frozen=True)
class SpeechEvidence:
    """Measures of one stretch of signal; see the module docstring."""

    flatness: float
    stationarity: float
    modulation_db: float
    steady_head_s: float = 0.0
    """Seconds at the start that are steady like a held chord or hum, not speech."""
    steady_tail_s: float = 0.0
    """The same at the end: music before or after the talk, joined to it by webrtcvad."""

    def to_dict(self) -> dict:
        """Plain values, for logs and tuning notes."""
        return asdict(self)


@dataclass(frozen=True)
class SpeechCriteria:
    """Thresholds a stretch must pass to count as speech."""

    max_flatness: float = 0.3
    max_stationarity: float = 0.75
    min_modulation_db: float = 6.0
    strong_modulation_db: float = 10.0
    """Stretches modulated at least this much may be as stationary as ..."""
    max_stationarity_modulated: float = 0.95
    """... this: a short word with a long vowel ("No.", "Okay.", "We saw" read slowly)
    reaches 0.93, synthetic hum, tones, chords and melodies 0.99-1.0."""

    def accepts(self, evidence: SpeechEvidence) -> bool:
        """True when the evidence looks like speech on every measure."""
        max_stationarity = (
            self.max_stationarity_modulated
            if evidence.modulation_db >= self.strong_modulation_db
            else self.max_stationarity
        )
        return (
            evidence.flatness <= self.max_flatness
            and evidence.stationarity <= max_stationarity
            and evidence.modulation_db >= self.min_modulation_db
        )


def speech_evidence(
    samples: Samples, sample_rate_hz: int, start: int = 0, end: int | None = None
) -> SpeechEvidence:
    """Flatness, stationarity and modulation of ``samples[start:end]`` (mono float).

    ``samples`` is an array or anything sliced like one (a recording spilled to disk); the
    stretch is read a batch of frames at a time, so a long one is never held whole.
    """
    end = len(samples) if end is None else end
    lag = int(sample_rate_hz * _LAG_S)
    step = int(sample_rate_hz * _STEP_S)
    last_start = end - start - _FFT_LEN - lag
    if last_start < 0:
        return SpeechEvidence(flatness=1.0, stationarity=1.0, modulation_db=0.0)
    count = last_start // step + 1
    band = slice(
        int(_BAND_HZ[0] * _FFT_LEN / sample_rate_hz), int(_BAND_HZ[1] * _FFT_LEN / sample_rate_hz)
    )
    batches = [
        _frame_measures(
            samples, (start, end), (first, min(first + _BATCH_FRAMES, count)), band, lag, step
        )
        for first in range(0, count, _BATCH_FRAMES)
    ]
    level_now, level_later, correlation, flatness = (
        np.concatenate(m) for m in zip(*batches, strict=True)
    )
    loudest = max(level_now.max(), level_later.max())
    floor = loudest * 10 ** (-_ACTIVE_RANGE_DB / 10)
    active = (level_now > floor) & (level_later > floor)
    if not active.any():
        return SpeechEvidence(flatness=1.0, stationarity=1.0, modulation_db=0.0)
    low, high = np.percentile(10 * np.log10(level_now), [10, 90])
    head_s, tail_s = _steady_edges_s(correlation, step, lag, sample_rate_hz, end - start)
    return SpeechEvidence(
        flatness=float(np.percentile(flatness[active], 25)),
        stationarity=float(np.median(correlation[active])),
        modulation_db=float(high - low),
        steady_head_s=head_s,
        steady_tail_s=tail_s,
    )


def _frame_measures(
    samples: Samples,
    stretch_range: tuple[int, int],
    frame_range: tuple[int, int],
    band: slice,
    lag: int,
    step: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Band level now and ``lag`` later, their spectra's correlation and the flatness now,
    for frames ``first``..``stop`` of the stretch ``start``..``end`` (zeros beyond its end)."""
    (start, end), (first, stop) = stretch_range, frame_range
    count = stop - first
    offset = start + first * step
    stretch = np.asarray(samples[offset : min(offset + count * step + lag, end)])
    if len(stretch) < count * step + lag:
        stretch = np.pad(stretch, (0, count * step + lag - len(stretch)))
    band_now = _band_power_spectra(stretch, 0, count, step, band) + 1e-12
    band_later = _band_power_spectra(stretch, lag, count, step, band) + 1e-12
    level_now = band_now.mean(axis=1)
    log_now = np.log(band_now)
    correlation = _row_correlation(log_now, np.log(band_later))
    flatness = np.exp(log_now.mean(axis=1)) / level_now
    return level_now, band_later.mean(axis=1), correlation, flatness


def _steady_edges_s(
    correlation: np.ndarray, step: int, lag: int, rate: int, length: int
) -> tuple[float, float]:
    """Seconds of steady signal (a music bed, hum) at each end of a stretch of speech."""
    if len(correlation) < _STEADY_RUN:
        return 0.0, 0.0
    windows = np.lib.stride_tricks.sliding_window_view(correlation, _STEADY_RUN)
    changing = np.flatnonzero(np.median(windows, axis=1) <= _STEADY_CORRELATION)
    if len(changing) == 0:
        return 0.0, 0.0
    # Window k spans frames k..k+RUN-1; keep all of the first and last changing windows.
    head_s = changing[0] * step / rate
    tail_end = (changing[-1] + _STEADY_RUN - 1) * step + _FFT_LEN + lag
    tail_s = max(0, length - tail_end) / rate
    return (
        head_s if head_s >= _MIN_TRIM_S else 0.0,
        tail_s if tail_s >= _MIN_TRIM_S else 0.0,
    )


def _band_power_spectra(
    samples: np.ndarray, offset: int, count: int, step: int, band: slice
) -> np.ndarray:
    """Power in the ``band`` bins of ``count`` frames every ``step`` samples from ``offset``."""
    # step >= frame length, so the frames are a strided view of the signal: no gather.
    span = samples[offset : offset + count * step]
    frames = span.reshape(count, step)[:, :_FFT_LEN] * _WINDOW
    # Only the band is used: squaring the other bins was half the work.
    spectra = _real_fft(frames, (1,), True, 0, None, 1)[:, band]
    return spectra.real**2 + spectra.imag**2


def _load_real_fft() -> Callable[..., np.ndarray]:
    """scipy's pocketfft real transform (what scipy.fft.rfft calls, batched with SIMD: 7x
    numpy.fft here), loaded alone: importing scipy.fft costs 29 MiB of resident memory."""
    scipy_dir = Path(importlib.util.find_spec("scipy").origin).parent  # type: ignore[union-attr]
    folder = scipy_dir / "fft" / "_pocketfft"
    path = next(
        folder / f"pypocketfft{suffix}"
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
        if (folder / f"pypocketfft{suffix}").exists()
    )
    loader = importlib.machinery.ExtensionFileLoader(_POCKETFFT, str(path))
    module = importlib.util.module_from_spec(
        importlib.util.spec_from_file_location(_POCKETFFT, path, loader=loader)  # type: ignore[arg-type]
    )
    loader.exec_module(module)
    return module.r2c


_real_fft = _load_real_fft()


def _row_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    denominator = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1)) + 1e-12
    return (a * b).sum(axis=1) / denominator
