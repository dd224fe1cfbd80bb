"""Clip files: 16 kHz mono FLAC named by content, and waveform peaks for the web player."""

from __future__ import annotations

import hashlib
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from audio.frames import to_pcm16
from audio.segment import Span
from audio.speechlike import Samples

CLIP_RATE_HZ = 16000
PEAK_BINS = 300
_WRITERS = 2
STALE_TMP_S = 600.0
ORPHAN_TMP_S = 60.0
_IN_FLIGHT = 2 * _WRITERS  # clips encoded or waiting: memory stays a few clips' worth


@dataclass(frozen=True)
class ClipFile:
    """One written clip: its id, where it lies in the recording, its file, its waveform."""

    clip_id: str
    span: Span
    path: Path
    peaks: np.ndarray = field(repr=False)
    """Waveform bins (float64 array: a list of Python floats is 4x larger per clip)."""

    def to_dict(self) -> dict:
        """Id, span and path (peaks are left out: they are for the player)."""
        return {"clip_id": self.clip_id, **self.span.to_dict(), "path": str(self.path)}


def clip_id_for(recording_digest: str, span: Span) -> str:
    """Stable id from the recording's bytes and the clip's sample range: same input, same id."""
    start, end = _sample_range(span)
    key = f"{recording_digest}:{start}-{end}".encode()
    return "c" + hashlib.sha256(key).hexdigest()[:20]


def clip_path(clips_dir: Path, clip_id: str) -> Path:
    """Where the clip with ``clip_id`` lives under ``clips_dir``."""
    return Path(clips_dir) / f"{clip_id}.flac"


def waveform_peaks(samples: np.ndarray, bins: int = PEAK_BINS) -> np.ndarray:
    """Max absolute sample in each of ``bins`` equal slices, for drawing the waveform."""
    if not len(samples):
        return np.zeros(0)
    bins = min(bins, len(samples))
    edges = np.linspace(0, len(samples), bins + 1).astype(np.int64)[:-1]
    peaks = np.maximum.reduceat(np.abs(samples), edges)
    return np.round(np.minimum(peaks, 1.0).astype(np.float64), 3)


def write_clips(
    samples: Samples, spans: list[Span], recording_digest: str, clips_dir: Path
) -> list[ClipFile]:
    """Write each span of 16 kHz ``samples`` as FLAC; clips already on disk are left alone.

    ``samples`` may be a recording spilled to disk: each clip is read as it is written, and
    only a few clips wait for a writer at a time.
    """
    clips_dir = Path(clips_dir)
    clips_dir.mkdir(parents=True, exist_ok=True)
    clips = []
    # libsndfile runs without the GIL, so two writers encode FLAC on two cores.
    with ThreadPoolExecutor(max_workers=_WRITERS) as writers:
        pending: deque[Future] = deque()
        for span in spans:
            clip_id = clip_id_for(recording_digest, span)
            start, end = _sample_range(span)
            audio = samples[start:end]
            path = clip_path(clips_dir, clip_id)
            if not path.exists():
                if len(pending) >= _IN_FLIGHT:
                    pending.popleft().result()
                pending.append(writers.submit(_write_flac, path, to_pcm16(audio)))
            clips.append(ClipFile(clip_id, span, path, waveform_peaks(audio)))
        for write in pending:
            write.result()
    return clips


def remove_stale_temporaries(clips_dir: Path, *, now_s: float) -> list[Path]:
    """Delete half-written clips a killed run left behind; returns what was removed.

    A temporary clip is stale when untouched for ``STALE_TMP_S``, or for ``ORPHAN_TMP_S``
    once its writer (the pid in its name) is gone from this machine; a live writer
    touches its file continuously and finishes in well under a second.
    """
    removed = []
    for path in Path(clips_dir).glob(".*.tmp"):
        try:
            age_s = now_s - path.stat().st_mtime
        except FileNotFoundError:
            continue  # its writer just renamed it into place
        pid = path.name.rsplit(".", 2)[-2]
        orphan = pid.isdigit() and not _process_alive(int(pid))
        if age_s >= STALE_TMP_S or (orphan and age_s >= ORPHAN_TMP_S):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _write_flac(path: Path, pcm16: np.ndarray) -> None:
    # A reader (web player, another worker) never sees a half-written clip.
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.tmp")
    try:
        sf.write(temporary, pcm16, CLIP_RATE_HZ, format="FLAC", subtype="PCM_16")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _sample_range(span: Span) -> tuple[int, int]:
    return int(round(span.start_s * CLIP_RATE_HZ)), int(round(span.end_s * CLIP_RATE_HZ))
