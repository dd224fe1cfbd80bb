"""Median voice pitch of real synthetic speech, and the speaker-group check built on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from audio.pitch import MAX_ANALYSED_S, bounded_sample, clips_median_f0_hz, median_f0_hz
from crowdscribe.languages import speaker_group_doubt
from tests.audio.speech import RATE_HZ, espeak

TEXT = "The children went to the zoo on a sunny morning and saw lions, tigers and bears."


def test_a_low_voice_and_a_high_voice_are_told_apart() -> None:
    low = median_f0_hz(espeak(TEXT, voice="en-us+m3", pitch=30))
    high = median_f0_hz(espeak(TEXT, voice="en-us+f4", pitch=99))
    assert low is not None and 70 < low < 160
    assert high is not None and high > 275
    assert speaker_group_doubt("adult", low) is None
    assert "sounds like a child" in speaker_group_doubt("adult", high)
    assert "sounds like an adult" in speaker_group_doubt("child", low)


def test_a_steady_tone_is_measured_and_noise_has_no_pitch() -> None:
    t = np.arange(3 * RATE_HZ) / RATE_HZ
    assert abs(median_f0_hz((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)) - 220) < 3
    noise = np.random.default_rng(1).standard_normal(3 * RATE_HZ).astype(np.float32) * 0.1
    assert median_f0_hz(noise) is None
    assert speaker_group_doubt("adult", None) is None


def test_long_audio_is_analysed_as_a_bounded_sample() -> None:
    hour = np.zeros(3600 * RATE_HZ, dtype=np.float32)
    assert bounded_sample(hour).size == int(MAX_ANALYSED_S * RATE_HZ)


def test_a_recording_pitch_comes_from_its_clip_files(tmp_path: Path) -> None:
    paths = []
    for number in range(3):
        path = tmp_path / f"clip{number}.flac"
        sf.write(path, espeak(TEXT, voice="en-us+f4", pitch=99), RATE_HZ, subtype="PCM_16")
        paths.append(path)
    assert clips_median_f0_hz(paths) > 275
    assert clips_median_f0_hz([]) is None
