"""One recording in, a RecordingOutcome out: decode, segment, judge quality, write clips."""

from __future__ import annotations

import hashlib
import queue
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from audio.clips import ClipFile, write_clips
from audio.decode import TARGET_RATE_HZ, SourceInfo, refuse_special_file, stream_audio
from audio.errors import UnreadableAudio
from audio.frames import FrameMeter, SignalFrames
from audio.quality import QualityReport, assess_quality, hold_reason
from audio.segment import SegmentConfig, analyse_speech
from audio.spill import SpilledSignal
from crowdscribe.clip_store import ClipStore
from crowdscribe.storage.states import RecordingStatus

_DIGEST_BLOCK = 1 << 20
_QUEUED_BLOCKS = 8  # decoded blocks waiting for the VAD: at most 2 MiB


@dataclass(frozen=True)
class RecordingOutcome:
    """What became of one recording: segmented into clips, no speech, or rejected (why)."""

    status: RecordingStatus
    reason: str | None
    digest: str | None
    format: str | None
    source_rate_hz: int | None
    channels: int | None
    duration_s: float | None
    quality: QualityReport | None
    clips: list[ClipFile] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain values, for manifests and flow artifacts."""
        return {
            "status": self.status,
            "reason": self.reason,
            "digest": self.digest,
            "format": self.format,
            "source_rate_hz": self.source_rate_hz,
            "channels": self.channels,
            "duration_s": self.duration_s,
            "quality": self.quality.to_dict() if self.quality else None,
            "clips": [clip.to_dict() for clip in self.clips],
        }


def file_digest(path: Path) -> str:
    """SHA-256 hex of the file's bytes: the recording's identity, whatever its name."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_DIGEST_BLOCK):
            digest.update(block)
    return digest.hexdigest()


class _Rejected(Exception):
    def __init__(self, reason: str, digest: str | None) -> None:
        self.reason, self.digest = reason, digest


def _decode_hash_and_measure(
    path: Path, aggressiveness: int, spill: SpilledSignal
) -> tuple[str, SourceInfo, SignalFrames]:
    """Hash, decode and measure at once: libsndfile, soxr and hashlib release the GIL, so
    decoding and hashing run on other cores while this thread runs the VAD on each block
    and spills it to disk. Memory holds a bounded queue of blocks, never the recording."""
    blocks: queue.Queue = queue.Queue(maxsize=_QUEUED_BLOCKS)
    meter = FrameMeter(TARGET_RATE_HZ, aggressiveness)

    def decode() -> SourceInfo:
        try:
            return stream_audio(path, blocks.put, TARGET_RATE_HZ)
        finally:
            blocks.put(None)

    with ThreadPoolExecutor(max_workers=2) as pool:
        pending_digest = pool.submit(file_digest, path)
        decoding = pool.submit(decode)
        while (block := blocks.get()) is not None:
            meter.feed(block)
            spill.append(block)
        try:
            info = decoding.result()
        except UnreadableAudio as refusal:
            raise _Rejected(refusal.reason, pending_digest.result()) from None
        return pending_digest.result(), info, meter.frames()


def process_recording(path: Path, clips_url: str | Path, config: SegmentConfig) -> RecordingOutcome:
    """Turn one recording into clip files at ``clips_url`` (a folder, or an fsspec URL such as
    ``s3://bucket/prefix``); the collect flow's one call.

    Unusable audio gives status 'rejected' with a reason, heavily clipped audio 'held'
    (clips written, kept from paid work until released); OSError propagates for retries.
    Memory does not grow with the recording: the 16 kHz signal is spilled to an unnamed
    local file (in the clips folder when it is local) and read back by stretches. Re-running
    on the same file writes nothing new and returns the same clip ids.
    """
    path = Path(path)
    store = ClipStore(clips_url)
    try:
        refuse_special_file(path)
    except UnreadableAudio as refusal:
        return _rejected(refusal.reason, None)
    with SpilledSignal(store.scratch_dir()) as spill:
        try:
            digest, info, frames = _decode_hash_and_measure(path, config.aggressiveness, spill)
        except _Rejected as rejected:
            return _rejected(rejected.reason, rejected.digest)
        analysis = analyse_speech(spill, info.sample_rate_hz, config, frames)
        quality = assess_quality(
            spill,
            info.sample_rate_hz,
            analysis,
            source_peak=info.source_peak,
            clipped_fraction=info.clipped_fraction,
        )
        written = write_clips(spill, analysis.spans, digest, store)
    held = hold_reason(quality) if written else None
    return RecordingOutcome(
        status=(
            RecordingStatus.HELD
            if held
            else RecordingStatus.SEGMENTED
            if written
            else RecordingStatus.NO_SPEECH
        ),
        reason=held or (None if written else "no speech found"),
        digest=digest,
        format=info.format,
        source_rate_hz=info.source_rate_hz,
        channels=info.channels,
        duration_s=round(info.duration_s, 3),
        quality=quality,
        clips=written,
    )


def _rejected(reason: str, digest: str | None) -> RecordingOutcome:
    return RecordingOutcome(
        status=RecordingStatus.REJECTED,
        reason=reason,
        digest=digest,
        format=None,
        source_rate_hz=None,
        channels=None,
        duration_s=None,
        quality=None,
    )
