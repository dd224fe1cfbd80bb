"""Quality report numbers on signals whose true values are known."""

from __future__ import annotations

import numpy as np
import pytest

from audio.quality import assess_quality
from audio.segment import SegmentConfig, analyse_speech
from tests.audio.speech import RATE_HZ, build_conversation


def _report(samples: np.ndarray, **source):
    analysis = analyse_speech(samples, RATE_HZ, SegmentConfig())
    return assess_quality(samples, RATE_HZ, analysis, **source)


def test_clipped_sine_has_a_clipping_ratio() -> None:
    t = np.arange(2 * RATE_HZ) / RATE_HZ
    clipped = np.clip(1.5 * np.sin(2 * np.pi * 300 * t), -1, 1).astype(np.float32)
    report = _report(clipped)
    assert report.clipping_ratio > 0.3
    assert report.peak_dbfs == pytest.approx(0.0, abs=0.01)


def test_half_scale_sine_peaks_at_minus_6_dbfs_and_is_not_clipped() -> None:
    t = np.arange(2 * RATE_HZ) / RATE_HZ
    report = _report((0.5 * np.sin(2 * np.pi * 300 * t)).astype(np.float32))
    assert report.peak_dbfs == pytest.approx(-6.02, abs=0.05)
    assert report.clipping_ratio == 0.0
    # No speech: loudness is the whole signal's RMS (0.5/sqrt 2 = -9.03 dBFS), SNR unknown.
    assert report.loudness_dbfs == pytest.approx(-9.03, abs=0.05)
    assert report.speech_ratio == 0.0 and report.snr_db is None


@pytest.mark.parametrize("snr_db", [10.0, 20.0, 30.0])
def test_snr_of_speech_in_white_noise_is_estimated_within_3_db(sentences, snr_db: float) -> None:
    talk = build_conversation(sentences[:6], [1.0, 0.8, 1.2, 0.9, 1.1, 1.0], None)
    active = np.concatenate(sentences[:6])
    speech_power = float(np.mean(active**2))
    noise = np.random.default_rng(5).standard_normal(len(talk.samples))
    noise *= np.sqrt(speech_power / 10 ** (snr_db / 10))
    report = _report((talk.samples + noise).astype(np.float32))
    assert report.snr_db == pytest.approx(snr_db, abs=3.0)
    assert report.loudness_dbfs == pytest.approx(10 * np.log10(speech_power), abs=3.0)


def test_speech_ratio_is_the_share_of_time_spoken(sentences) -> None:
    talk = build_conversation(sentences[:4], [2.0, 2.0, 2.0, 2.0], -70.0)
    spoken_s = sum(end - start for start, end in talk.utterances)
    report = _report(talk.samples)
    assert report.duration_s == pytest.approx(talk.duration_s, abs=0.001)
    assert report.speech_ratio == pytest.approx(spoken_s / talk.duration_s, abs=0.05)


def test_source_peak_and_clipping_override_the_resampled_signal() -> None:
    quiet = np.full(RATE_HZ, 0.1, dtype=np.float32)
    report = _report(quiet, source_peak=1.0, clipped_fraction=0.25)
    assert report.peak_dbfs == 0.0 and report.clipping_ratio == 0.25
