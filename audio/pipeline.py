"""One recording in, a RecordingOutcome out: decode, segment, judge quality, write clips."""

from __future__ import annotations

import hashlib
import queue
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from audio.clips import ClipFile, write_clips
from audio.decode import TARGET_RATE_HZ, DecodedAudio, load_audio
from audio.errors import UnreadableAudio
from audio.frames import VoiceDetector
from audio.quality import QualityReport, assess_quality
from audio.segment import SegmentConfig, analyse_speech

_DIGEST_BLOCK = 1 << 20
_QUEUED_BLOCKS = 64  # ~90 s of 16 kHz audio waiting for the VAD at most


@dataclass(frozen=True)
class RecordingOutcome:
    """What became of one recording: segmented into clips, no speech, or rejected (why)."""

    status: str  # 'segmented' | 'no_speech' | 'rejected'
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
    def __init__(self, reason: str, digest: str) -> None:
        self.reason, self.digest = reason, digest


def _decode_hash_and_detect(
    path: Path, aggressiveness: int
) -> tuple[str, DecodedAudio, np.ndarray]:
    """Hash, decode and run webrtcvad at once: libsndfile, soxr and hashlib release the GIL,
    so decoding and hashing run on other cores while this thread runs the VAD on each block."""
    blocks: queue.Queue = queue.Queue(maxsize=_QUEUED_BLOCKS)
    detector = VoiceDetector(TARGET_RATE_HZ, aggressiveness)

    def decode() -> DecodedAudio:
        try:
            return load_audio(path, TARGET_RATE_HZ, on_block=blocks.put)
        finally:
            blocks.put(None)

    with ThreadPoolExecutor(max_workers=2) as pool:
        pending_digest = pool.submit(file_digest, path)
        decoding = pool.submit(decode)
        while (block := blocks.get()) is not None:
            detector.feed(block)
        try:
            decoded = decoding.result()
        except UnreadableAudio as refusal:
            raise _Rejected(refusal.reason, pending_digest.result()) from None
        return pending_digest.result(), decoded, detector.voiced()


def process_recording(path: Path, clips_dir: Path, config: SegmentConfig) -> RecordingOutcome:
    """Turn one recording into clip files under ``clips_dir``; the collect flow's one call.

    Unusable audio gives status 'rejected' with a reason; OSError propagates for retries.
    Re-running on the same file writes nothing new and returns the same clip ids.
    """
    path = Path(path)
    try:
        digest, decoded, voiced = _decode_hash_and_detect(path, config.aggressiveness)
    except _Rejected as rejected:
        return RecordingOutcome(
            status="rejected",
            reason=rejected.reason,
            digest=rejected.digest,
            format=None,
            source_rate_hz=None,
            channels=None,
            duration_s=None,
            quality=None,
        )
    analysis = analyse_speech(decoded.samples, decoded.sample_rate_hz, config, voiced)
    quality = assess_quality(
        decoded.samples,
        decoded.sample_rate_hz,
        analysis,
        source_peak=decoded.source_peak,
        clipped_fraction=decoded.clipped_fraction,
    )
    clips = write_clips(decoded.samples, analysis.spans, digest, clips_dir)
    return RecordingOutcome(
        status="segmented" if clips else "no_speech",
        reason=None if clips else "no speech found",
        digest=digest,
        format=decoded.format,
        source_rate_hz=decoded.source_rate_hz,
        channels=decoded.channels,
        duration_s=round(decoded.duration_s, 3),
        quality=quality,
        clips=clips,
    )
