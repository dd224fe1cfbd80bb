"""Decode any audio file libsndfile reads to 16 kHz mono float32, streaming in blocks.

Each block is mixed to mono and fed through a soxr HQ resampling stream and handed on
(``stream_audio``), so nothing here grows with the recording's length; ``load_audio``
keeps the whole 16 kHz signal for callers that want it in memory. Peak and clipping are
measured on the source samples, before resampling smears them.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from audio.errors import UnreadableAudio
from audio.mpeg import mpeg_truncation, parse_header

TARGET_RATE_HZ = 16000
BLOCK_FRAMES = 1 << 16
# Integer PCM is read as int16 (4x less memory traffic than float32); the rest as float32.
_INT16_SUBTYPES = {"PCM_16", "PCM_S8", "PCM_U8", "ULAW", "ALAW"}
_FORMAT_NAMES = {
    "WAV": "wav",
    "WAVEX": "wav",
    "RF64": "wav",
    "FLAC": "flac",
    "OGG": "ogg",
    "MP3": "mp3",
    "AIFF": "aiff",
    "CAF": "caf",
    "W64": "w64",
    "AU": "au",
}
# Formats whose header frame count is exact, so a short read means a truncated file.
_EXACT_LENGTH = {"WAV", "WAVEX", "RF64", "FLAC", "AIFF", "W64", "CAF"}
_CLIP_LEVEL = 0.9999
_SPECIAL_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}
_DATA_LENGTH = re.compile(r"data\s*:\s*(\d+)\s*\(should be (\d+)\)")


@dataclass(frozen=True)
class SourceInfo:
    """What a decoded file was, and how long it is at ``sample_rate_hz``."""

    sample_rate_hz: int
    source_rate_hz: int
    channels: int
    format: str
    duration_s: float
    source_peak: float = 0.0
    """Largest absolute source sample over all channels (1.0 = full scale)."""
    clipped_fraction: float = 0.0
    """Share of source samples (all channels) at full scale."""


@dataclass(frozen=True, kw_only=True)
class DecodedAudio(SourceInfo):
    """Mono float32 samples at ``sample_rate_hz`` plus what the source file was."""

    samples: np.ndarray


def load_audio(path: Path, target_rate_hz: int = TARGET_RATE_HZ) -> DecodedAudio:
    """Decode ``path`` to mono at ``target_rate_hz``, whole, in memory (tests, benchmarks)."""
    pieces: list[np.ndarray] = []
    info = stream_audio(path, pieces.append, target_rate_hz)
    samples = np.concatenate(pieces).astype(np.float32, copy=False)
    return DecodedAudio(samples=samples, **asdict(info))


def refuse_special_file(path: Path) -> None:
    """Raise UnreadableAudio for anything but a regular file, without opening it.

    Opening a FIFO blocks until someone writes to it; a device may never end.
    """
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        kind = _SPECIAL_KINDS.get(stat.S_IFMT(mode), "not a regular file")
        raise UnreadableAudio(
            f"not a regular file: {Path(path).name} is {kind}; copy the audio to a file"
        )


def stream_audio(
    path: Path,
    on_block: Callable[[np.ndarray], None],
    target_rate_hz: int = TARGET_RATE_HZ,
) -> SourceInfo:
    """Decode ``path`` to mono at ``target_rate_hz``, handing each block to ``on_block``.

    Raises UnreadableAudio saying why a file cannot be used; OSError (missing file,
    permissions, I/O) propagates so callers can retry it.
    """
    path = Path(path)
    refuse_special_file(path)
    with open(path, "rb") as handle:
        head = handle.read(64)
        if not head:
            raise UnreadableAudio("empty file (0 bytes)")
        if head.startswith(b"ID3") or parse_header(head) is not None:
            # MP3 states no length, so libsndfile would decode a cut file as a short one.
            truncation = mpeg_truncation(handle, os.fstat(handle.fileno()).st_size)
            if truncation:
                raise UnreadableAudio(truncation)
        # libsndfile reads the descriptor itself (a file object would cost a Python callback
        # and a copy per read); it takes the descriptor's position as the start of the file.
        os.lseek(handle.fileno(), 0, os.SEEK_SET)
        try:
            sound = sf.SoundFile(handle.fileno(), closefd=False)
        except sf.LibsndfileError as error:
            raise UnreadableAudio(_open_failure(head, error)) from None
        with sound:
            return _decode_stream(sound, target_rate_hz, on_block)


def _decode_stream(
    sound: sf.SoundFile, target_rate_hz: int, on_block: Callable[[np.ndarray], None]
) -> SourceInfo:
    rate, channels, declared = sound.samplerate, sound.channels, sound.frames
    if declared <= 0:
        raise UnreadableAudio("no audio: the file has a header but no samples (empty or truncated)")
    _check_declared_length(sound)
    dtype = "int16" if sound.subtype in _INT16_SUBTYPES else "float32"
    scale = 1.0 / 32768.0 if dtype == "int16" else 1.0
    mix = np.full((channels, 1), scale / channels, dtype=np.float32)
    stream = (
        soxr.ResampleStream(rate, target_rate_hz, 1, dtype="float32", quality="HQ")
        if rate != target_rate_hz
        else None
    )
    peak, clipped, frames_read, length = 0.0, 0, 0, 0
    while True:
        try:
            block = sound.read(BLOCK_FRAMES, dtype=dtype, always_2d=True)
        except sf.LibsndfileError as error:
            raise UnreadableAudio(_truncated(frames_read, declared, rate, error)) from None
        frames_read += len(block)
        last = len(block) < BLOCK_FRAMES
        if len(block):
            block_peak = max(float(block.max()), -float(block.min())) * scale
            if not math.isfinite(block_peak):
                raise UnreadableAudio(_non_finite(block, frames_read - len(block), rate))
            peak = max(peak, block_peak)
            if block_peak >= _CLIP_LEVEL:  # counting costs two passes; most blocks never clip
                level = _CLIP_LEVEL / scale
                clipped += int(np.count_nonzero(block >= level) + np.count_nonzero(block <= -level))
            mono = (block @ mix if dtype == "int16" or channels > 1 else block)[:, 0]
        else:
            mono = np.zeros(0, dtype=np.float32)
        resampled = stream.resample_chunk(mono, last=last) if stream else mono.copy()
        if len(resampled):
            length += len(resampled)
            on_block(resampled)
        if last:
            break
    if sound.format in _EXACT_LENGTH and frames_read < declared * 0.99:
        raise UnreadableAudio(_truncated(frames_read, declared, rate, None))
    if not length:
        raise UnreadableAudio("no audio: the file has a header but no samples")
    return SourceInfo(
        sample_rate_hz=target_rate_hz,
        source_rate_hz=rate,
        channels=channels,
        format=_FORMAT_NAMES.get(sound.format, sound.format.lower()),
        duration_s=length / target_rate_hz,
        source_peak=min(peak, 1.0) if dtype == "int16" else peak,
        clipped_fraction=clipped / max(frames_read * channels, 1),
    )


def _non_finite(block: np.ndarray, first_frame: int, rate: int) -> str:
    bad = ~np.isfinite(block).all(axis=1)
    at_s = (first_frame + int(np.argmax(bad))) / rate
    return (
        f"corrupt: {int(bad.sum())} sample frame(s) are not numbers (NaN or infinity), "
        f"the first at {at_s:.2f} s; re-export the recording from its source"
    )


def _check_declared_length(sound: sf.SoundFile) -> None:
    # libsndfile quietly shortens a WAV whose data chunk runs past the end of the file;
    # its log says so ("data : 108636 (should be 19956)"), which is how we notice.
    match = _DATA_LENGTH.search(sound.extra_info)
    if not match:
        return
    declared_bytes, actual_bytes = int(match[1]), int(match[2])
    streamed = declared_bytes in (0, 0xFFFFFFFF, 0x7FFFFFFF)
    if declared_bytes > actual_bytes and not streamed:
        ratio = actual_bytes / declared_bytes
        total_s = sound.frames / sound.samplerate / max(ratio, 1e-9)
        raise UnreadableAudio(
            f"truncated: header declares {total_s:.1f} s of audio but the file holds "
            f"{sound.frames / sound.samplerate:.1f} s ({actual_bytes} of {declared_bytes} bytes)"
        )


def _truncated(frames_read: int, declared: int, rate: int, error: Exception | None) -> str:
    if error is None:
        return (
            f"truncated: the audio stops at {frames_read / rate:.1f} s of the "
            f"{declared / rate:.1f} s the header declares"
        )
    return (
        f"truncated: the audio data breaks off before the {declared / rate:.1f} s the "
        f"header declares ({_libsndfile_words(error)})"
    )


def _libsndfile_words(error: Exception) -> str:
    text = str(error)
    return text.split(": ", 1)[-1].strip().rstrip(".") if ": " in text else text


_MAGIC = [
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (or office document)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x1aE\xdf\xa3", "a Matroska/WebM file"),
    (b"#!AMR", "AMR audio"),
    (b"0&\xb2u", "a WMA/ASF file"),
    (b"wvpk", "WavPack audio"),
]


def _open_failure(head: bytes, error: Exception) -> str:
    """Turn libsndfile's refusal into a reason that says what the file is and what to do."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            kind = "unsupported format" if "audio" in what or "WMA" in what else "not an audio file"
            return f"{kind}: looks like {what}; convert it to WAV or FLAC"
    if head[4:8] == b"ftyp":
        return "unsupported format: looks like MP4/M4A (AAC) audio; convert it to WAV or FLAC"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "unsupported format: looks like raw AAC (ADTS); convert it to WAV or FLAC"
    if _looks_like_text(head):
        start = head[:24].decode("utf-8", "replace").strip().replace("\n", " ")
        return f"not an audio file: looks like text (starts {start!r})"
    if head.startswith((b"RIFF", b"fLaC", b"OggS", b"ID3", b"FORM")):
        return f"damaged or unsupported audio: {_libsndfile_words(error)}"
    return f"not an audio file: format not recognised ({_libsndfile_words(error)})"


def _looks_like_text(head: bytes) -> bool:
    # Printable ASCII, whitespace or UTF-8 lead/continuation bytes, and no NULs.
    texty = sum(32 <= b < 127 or b in (9, 10, 13) or b >= 0x80 for b in head)
    return b"\0" not in head and texty >= 0.95 * len(head)
