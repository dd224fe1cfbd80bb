"""process_recording: the one call the collect flow makes per recording."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from audio.clips import clip_id_for, waveform_peaks
from audio.pipeline import file_digest, process_recording
from audio.segment import SegmentConfig, Span
from tests.audio.speech import AUDIO_DATA, RATE_HZ, build_conversation


@pytest.fixture
def recording(tmp_path: Path, sentences) -> Path:
    """Six sentences with pauses as a 44.1 kHz stereo WAV, as a phone might record it."""
    talk = build_conversation(sentences[:6], [0.9, 1.3, 0.7, 1.0, 0.6, 0.8], -60.0)
    path = tmp_path / "in" / "talk.wav"
    path.parent.mkdir()
    audio = soxr.resample(talk.samples, RATE_HZ, 44100, quality="HQ")
    sf.write(path, np.stack([audio, audio], axis=1), 44100, subtype="PCM_16")
    return path


def test_recording_becomes_16k_mono_flac_clips(recording: Path, tmp_path: Path) -> None:
    outcome = process_recording(recording, tmp_path / "clips", SegmentConfig())
    assert outcome.status == "segmented" and outcome.reason is None
    assert outcome.digest == file_digest(recording)
    assert (outcome.format, outcome.source_rate_hz, outcome.channels) == ("wav", 44100, 2)
    assert outcome.quality is not None and outcome.quality.speech_ratio > 0.5
    assert len(outcome.clips) >= 3
    for clip in outcome.clips:
        info = sf.info(clip.location)
        assert (info.format, info.samplerate, info.channels) == ("FLAC", RATE_HZ, 1)
        assert info.duration == pytest.approx(clip.span.duration_s, abs=1 / RATE_HZ)
        assert Path(clip.location).parent == tmp_path / "clips"
        assert clip.clip_id == clip_id_for(outcome.digest, clip.span)
        assert len(clip.peaks) == 300 and 0.0 <= min(clip.peaks) <= max(clip.peaks) <= 1.0
        samples, _ = sf.read(clip.location, dtype="float32")
        assert max(clip.peaks) == pytest.approx(np.abs(samples).max(), abs=0.002)
    assert not [p for p in (tmp_path / "clips").iterdir() if p.suffix != ".flac"]


def test_rerunning_creates_no_new_files_and_the_same_ids(recording: Path, tmp_path: Path) -> None:
    clips_dir = tmp_path / "clips"
    first = process_recording(recording, clips_dir, SegmentConfig())
    before = {p.name: p.stat().st_mtime_ns for p in clips_dir.iterdir()}
    # Same bytes under another name: still the same recording, same clips.
    renamed = tmp_path / "renamed.wav"
    shutil.copy(recording, renamed)
    for path in (recording, renamed):
        again = process_recording(path, clips_dir, SegmentConfig())
        assert [c.clip_id for c in again.clips] == [c.clip_id for c in first.clips]
    assert {p.name: p.stat().st_mtime_ns for p in clips_dir.iterdir()} == before


def test_clip_ids_differ_between_recordings_and_spans() -> None:
    span = Span(1.0, 3.5)
    assert clip_id_for("a" * 64, span) != clip_id_for("b" * 64, span)
    assert clip_id_for("a" * 64, span) != clip_id_for("a" * 64, Span(1.0, 3.6))
    assert clip_id_for("a" * 64, span) == clip_id_for("a" * 64, Span(1.0, 3.5))
    assert len(clip_id_for("a" * 64, span)) == 21


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.wav", "empty file"),
        ("truncated.flac", "truncated"),
        ("text_renamed.wav", "not an audio file"),
    ],
)
def test_bad_audio_is_rejected_with_a_reason(tmp_path: Path, name: str, reason: str) -> None:
    outcome = process_recording(AUDIO_DATA / name, tmp_path / "clips", SegmentConfig())
    assert outcome.status == "rejected" and outcome.reason.startswith(reason)
    assert outcome.digest == file_digest(AUDIO_DATA / name)
    assert outcome.clips == [] and outcome.quality is None


def test_hum_recording_has_no_speech_and_no_clips(tmp_path: Path) -> None:
    t = np.arange(10 * 48000) / 48000
    hum = sum(0.2 / k * np.sin(2 * np.pi * 60 * k * t) for k in range(1, 6))
    sf.write(tmp_path / "hum.flac", hum, 48000, subtype="PCM_24")
    outcome = process_recording(tmp_path / "hum.flac", tmp_path / "clips", SegmentConfig())
    assert outcome.status == "no_speech" and outcome.clips == []
    assert outcome.quality.speech_ratio == 0.0
    assert outcome.duration_s == pytest.approx(10.0, abs=0.001)


def test_missing_file_propagates_for_a_retry(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        process_recording(tmp_path / "gone.wav", tmp_path / "clips", SegmentConfig())


def test_waveform_peaks_follow_the_signal() -> None:
    signal = np.concatenate([np.zeros(3000), 0.5 * np.ones(3000)]).astype(np.float32)
    peaks = waveform_peaks(signal, bins=10)
    assert peaks.tolist() == [0.0] * 5 + [0.5] * 5
