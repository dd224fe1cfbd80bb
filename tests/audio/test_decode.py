"""Decoding: every format, rate and channel count to 16 kHz mono; broken files say why."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from audio.decode import load_audio
from audio.errors import UnreadableAudio
from tests.audio.speech import AUDIO_DATA, RATE_HZ

CASES = [
    # (format, subtype, rate, channels, suffix)
    ("WAV", "PCM_16", 44100, 2, "wav"),
    ("WAV", "PCM_16", 8000, 1, "wav"),
    ("WAV", "PCM_24", 48000, 1, "wav"),
    ("WAV", "FLOAT", 32000, 4, "wav"),
    ("WAV", "PCM_U8", 11025, 1, "wav"),
    ("FLAC", "PCM_24", 96000, 2, "flac"),
    ("FLAC", "PCM_16", 16000, 1, "flac"),
    ("OGG", "VORBIS", 44100, 2, "ogg"),
    ("OGG", "VORBIS", 22050, 1, "ogg"),
    ("MP3", "MPEG_LAYER_III", 44100, 2, "mp3"),
    ("MP3", "MPEG_LAYER_III", 24000, 1, "mp3"),
]


def _write_speech(path: Path, speech: np.ndarray, rate: int, channels: int, fmt: str, sub: str):
    audio = soxr.resample(speech, RATE_HZ, rate, quality="HQ") if rate != RATE_HZ else speech
    sf.write(path, np.repeat(audio[:, None], channels, axis=1), rate, format=fmt, subtype=sub)


@pytest.fixture(scope="module")
def speech_16k() -> np.ndarray:
    samples, rate = sf.read(AUDIO_DATA / "speech_en.flac", dtype="float32")
    return soxr.resample(samples, rate, RATE_HZ, quality="HQ").astype(np.float32)


@pytest.mark.parametrize(("fmt", "subtype", "rate", "channels", "suffix"), CASES)
def test_every_format_rate_and_channel_count_decodes_to_16k_mono(
    tmp_path: Path, speech_16k: np.ndarray, fmt, subtype, rate, channels, suffix
) -> None:
    path = tmp_path / f"speech.{suffix}"
    _write_speech(path, speech_16k, rate, channels, fmt, subtype)
    decoded = load_audio(path)
    assert decoded.sample_rate_hz == RATE_HZ
    assert decoded.samples.ndim == 1 and decoded.samples.dtype == np.float32
    assert (decoded.source_rate_hz, decoded.channels, decoded.format) == (rate, channels, suffix)
    expected_s = len(speech_16k) / RATE_HZ
    # MP3 frames add encoder delay and padding; everything else is sample-exact.
    assert decoded.duration_s == pytest.approx(expected_s, abs=0.1 if fmt == "MP3" else 0.002)
    assert decoded.duration_s == pytest.approx(len(decoded.samples) / RATE_HZ)
    # It is still the same speech at the same level (lossy codecs within a dB or so).
    level_db = 10 * np.log10(np.mean(decoded.samples**2) / np.mean(speech_16k**2))
    assert abs(level_db) < 1.5
    if fmt in ("WAV", "FLAC") and subtype != "PCM_U8" and rate >= RATE_HZ:
        n = min(len(speech_16k), len(decoded.samples))
        assert np.corrcoef(decoded.samples[:n], speech_16k[:n])[0, 1] > 0.999


def test_stereo_is_mixed_to_mono(tmp_path: Path, speech_16k: np.ndarray) -> None:
    stereo = np.stack([speech_16k, np.zeros_like(speech_16k)], axis=1)
    sf.write(tmp_path / "left_only.wav", stereo, RATE_HZ, subtype="PCM_16")
    decoded = load_audio(tmp_path / "left_only.wav")
    np.testing.assert_allclose(decoded.samples, speech_16k / 2, atol=1e-4)


def test_clipping_is_measured_on_the_source_samples(tmp_path: Path) -> None:
    t = np.arange(44100) / 44100
    sf.write(tmp_path / "clipped.wav", np.clip(2 * np.sin(2 * np.pi * 440 * t), -1, 1), 44100)
    decoded = load_audio(tmp_path / "clipped.wav")
    assert decoded.source_peak == pytest.approx(1.0, abs=1e-3)
    # A sine at twice full scale spends two thirds of its time clipped.
    assert decoded.clipped_fraction == pytest.approx(2 / 3, abs=0.02)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.wav", "empty file (0 bytes)"),
        ("truncated.wav", "truncated: header declares 4.8 s of audio but the file holds 0.5 s"),
        ("truncated.flac", "truncated: the audio data breaks off before the 4.8 s"),
        ("text_renamed.wav", "not an audio file: looks like text (starts 'speaker: ana"),
        ("header_only.wav", "no audio: the file has a header but no samples"),
        ("unsupported.wv", "unsupported format: looks like WavPack audio; convert it to WAV"),
    ],
)
def test_broken_files_give_clear_reasons(name: str, reason: str) -> None:
    with pytest.raises(UnreadableAudio) as refusal:
        load_audio(AUDIO_DATA / name)
    assert refusal.value.reason.startswith(reason)


def test_random_bytes_are_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp3"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(UnreadableAudio, match="not an audio file|damaged"):
        load_audio(path)


def test_missing_file_is_an_os_error_not_a_refusal(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_audio(tmp_path / "gone.wav")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_are_corrupt_not_silence(
    tmp_path: Path, speech_16k: np.ndarray, bad: float
) -> None:
    samples = speech_16k.copy()
    samples[RATE_HZ : RATE_HZ + 10] = bad
    path = tmp_path / "float.wav"
    sf.write(path, samples, RATE_HZ, subtype="FLOAT")
    with pytest.raises(UnreadableAudio) as refusal:
        load_audio(path)
    assert refusal.value.reason.startswith("corrupt: 10 sample frame(s) are not numbers")
    assert "the first at 1.00 s" in refusal.value.reason


@pytest.mark.parametrize("source", ["sox", "libsndfile"])
def test_mp3_cut_short_is_truncated_not_a_shorter_recording(
    tmp_path: Path, speech_16k: np.ndarray, source: str
) -> None:
    if source == "sox":  # CBR frames and nothing else: only the cut last frame tells
        whole = (Path(__file__).parents[2] / "samples" / "en" / "zoo_trip.mp3").read_bytes()
    else:
        sf.write(tmp_path / "whole.mp3", np.tile(speech_16k, 3), RATE_HZ, format="MP3")
        whole = (tmp_path / "whole.mp3").read_bytes()
    (tmp_path / "cut.mp3").write_bytes(whole[: int(len(whole) * 0.3)])
    with pytest.raises(UnreadableAudio) as refusal:
        load_audio(tmp_path / "cut.mp3")
    assert refusal.value.reason.startswith("truncated: the MP3")


def test_fifos_and_devices_are_refused_without_being_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)  # opening it for reading would block until a writer came
    with pytest.raises(UnreadableAudio, match=r"not a regular file: pipe.wav is a FIFO"):
        load_audio(fifo)
    with pytest.raises(UnreadableAudio, match="is a character device"):
        load_audio(Path("/dev/zero"))
