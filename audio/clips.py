"""Clip files: 16 kHz mono FLAC named by content, in a clip store (a folder or an object store
such as S3), and waveform peaks for the web player."""

from __future__ import annotations

import hashlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import soundfile as sf

from audio.frames import to_pcm16
from audio.segment import Span
from audio.speechlike import Samples
from crowdscribe.clip_store import ClipStore

CLIP_RATE_HZ = 16000
PEAK_BINS = 300
_WRITERS = 2
_IN_FLIGHT = 2 * _WRITERS  # clips encoded or waiting: memory stays a few clips' worth


@dataclass(frozen=True)
class ClipFile:
    """One written clip: its id, where it lies in the recording, its file (a local path or a
    URL), its waveform."""

    clip_id: str
    span: Span
    location: str
    peaks: np.ndarray = field(repr=False)
    """Waveform bins (float64 array: a list of Python floats is 4x larger per clip)."""

    def to_dict(self) -> dict:
        """Id, span and path (peaks are left out: they are for the player)."""
        return {"clip_id": self.clip_id, **self.span.to_dict(), "location": self.location}


def clip_id_for(recording_digest: str, span: Span) -> str:
    """Stable id from the recording's bytes and the clip's sample range: same input, same id."""
    start, end = _sample_range(span)
    key = f"{recording_digest}:{start}-{end}".encode()
    return "c" + hashlib.sha256(key).hexdigest()[:20]


def clip_name(clip_id: str) -> str:
    """The clip's file name in its store."""
    return f"{clip_id}.flac"


def waveform_peaks(samples: np.ndarray, bins: int = PEAK_BINS) -> np.ndarray:
    """Max absolute sample in each of ``bins`` equal slices, for drawing the waveform."""
    if not len(samples):
        return np.zeros(0)
    bins = min(bins, len(samples))
    edges = np.linspace(0, len(samples), bins + 1).astype(np.int64)[:-1]
    peaks = np.maximum.reduceat(np.abs(samples), edges)
    return np.round(np.minimum(peaks, 1.0).astype(np.float64), 3)


def write_clips(
    samples: Samples, spans: list[Span], recording_digest: str, store: ClipStore
) -> list[ClipFile]:
    """Write each span of 16 kHz ``samples`` as FLAC into ``store``; clips already stored are
    left alone.

    ``samples`` may be a recording spilled to disk: each clip is read as it is written, and
    only a few clips wait for a writer at a time.
    """
    clips = []
    # libsndfile runs without the GIL, so two writers encode FLAC on two cores (and two
    # uploads overlap when the store is remote).
    with ThreadPoolExecutor(max_workers=_WRITERS) as writers:
        pending: deque[Future] = deque()
        for span in spans:
            clip_id = clip_id_for(recording_digest, span)
            start, end = _sample_range(span)
            audio = samples[start:end]
            name = clip_name(clip_id)
            if not store.exists(name):
                if len(pending) >= _IN_FLIGHT:
                    pending.popleft().result()
                pending.append(writers.submit(_write_flac, store, name, to_pcm16(audio)))
            clips.append(ClipFile(clip_id, span, store.location(name), waveform_peaks(audio)))
        for write in pending:
            write.result()
    return clips


def _write_flac(store: ClipStore, name: str, pcm16: np.ndarray) -> None:
    # A reader (web player, another worker) never sees a half-written clip (ClipStore.write).
    store.write(
        name, lambda target: sf.write(target, pcm16, CLIP_RATE_HZ, format="FLAC", subtype="PCM_16")
    )


def _sample_range(span: Span) -> tuple[int, int]:
    return int(round(span.start_s * CLIP_RATE_HZ)), int(round(span.end_s * CLIP_RATE_HZ))
