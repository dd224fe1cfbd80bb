"""A recording's quality report: level, clipping, loudness, how much is speech, and SNR."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from audio.frames import ENERGY_HOP_S, VAD_FRAME_S, power_db
from audio.segment import SpeechAnalysis
from audio.speechlike import Samples

_SNR_CEILING_DB = 100.0  # digital silence between words would otherwise make SNR infinite
_MIN_NOISE_S = 0.5  # below this much non-speech, estimate noise from pauses inside speech
_SPEECH_EDGE_S = 0.1  # frames this close to speech carry its onset/decay, not noise
HEAVY_CLIPPING_RATIO = 0.01
"""From this share of samples at full scale, words are distorted: a person decides first."""


@dataclass(frozen=True)
class QualityReport:
    """What a coordinator needs to judge a recording before paying to transcribe it."""

    duration_s: float
    peak_dbfs: float
    clipping_ratio: float
    """Share of source samples at full scale."""
    loudness_dbfs: float
    """RMS level of the speech (the whole file when there is none), dB re full scale."""
    speech_ratio: float
    """Share of the duration inside speech segments."""
    snr_db: float | None
    """Speech power over noise power; None without speech."""

    def to_dict(self) -> dict:
        """Plain values, for manifests and the database row."""
        return asdict(self)


def hold_reason(quality: QualityReport) -> str | None:
    """Why a recording's clips should wait for a coordinator before paid work, if they should."""
    if quality.clipping_ratio >= HEAVY_CLIPPING_RATIO:
        return (
            f"heavy clipping: {quality.clipping_ratio:.1%} of samples at full scale; "
            "listen, then release it (crowdscribe recordings release SOURCE) or leave it held"
        )
    return None


def assess_quality(
    samples: Samples,
    sample_rate_hz: int,
    analysis: SpeechAnalysis,
    *,
    source_peak: float | None = None,
    clipped_fraction: float | None = None,
) -> QualityReport:
    """Quality of ``samples`` given its segmentation; peak and clipping from the source if known."""
    duration_s = len(samples) / sample_rate_hz
    if source_peak is None or clipped_fraction is None:
        magnitude = np.abs(np.asarray(samples[:]))
        source_peak = float(magnitude.max())
        clipped_fraction = float(np.count_nonzero(magnitude >= 0.9999)) / max(len(samples), 1)
    peak = source_peak
    speech, noise = _speech_and_noise_frames(analysis, len(analysis.power))
    power = analysis.power
    speech_s = sum(span.duration_s for span in analysis.speech_spans)
    if speech.any():
        speech_power = float(power[speech].mean())
        snr_db = _snr_db(speech_power, _noise_power(power, speech, noise))
    else:
        speech_power = float(power.mean()) if len(power) else 0.0
        snr_db = None
    return QualityReport(
        duration_s=round(duration_s, 3),
        peak_dbfs=round(float(power_db(peak * peak)), 2),
        clipping_ratio=round(clipped_fraction, 6),
        loudness_dbfs=round(float(power_db(speech_power)), 2),
        speech_ratio=round(min(speech_s / duration_s, 1.0), 4) if duration_s else 0.0,
        snr_db=snr_db,
    )


def _speech_and_noise_frames(analysis: SpeechAnalysis, count: int) -> tuple[np.ndarray, np.ndarray]:
    """10 ms frame masks: voiced frames inside speech, and frames well clear of any speech."""
    inside = np.zeros(count, dtype=bool)
    near = np.zeros(count, dtype=bool)
    edge = int(round(_SPEECH_EDGE_S / ENERGY_HOP_S))
    for span in analysis.speech_spans:
        a, b = int(span.start_s / ENERGY_HOP_S), int(np.ceil(span.end_s / ENERGY_HOP_S))
        inside[a:b] = True
        near[max(a - edge, 0) : b + edge] = True
    per_vad_frame = int(round(VAD_FRAME_S / ENERGY_HOP_S))
    voiced = np.repeat(analysis.voiced, per_vad_frame)[:count]
    voiced = np.pad(voiced, (0, count - len(voiced)))
    return inside & voiced, ~near


def _noise_power(power: np.ndarray, speech: np.ndarray, noise: np.ndarray) -> float:
    if noise.sum() * ENERGY_HOP_S >= _MIN_NOISE_S:
        return float(power[noise].mean())
    # Continuous speech: the quietest tenth of frames are the pauses between words.
    return float(np.percentile(power[speech], 10))


def _snr_db(speech_power: float, noise_power: float) -> float:
    signal = max(speech_power - noise_power, 1e-12)
    snr = 10.0 * np.log10(signal / max(noise_power, 1e-12))
    return round(float(np.clip(snr, -_SNR_CEILING_DB, _SNR_CEILING_DB)), 2)
