"""One recording in, a RecordingOutcome out: decode, segment, judge quality, write clips."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from audio.clips import ClipFile, write_clips
from audio.decode import TARGET_RATE_HZ, load_audio
from audio.errors import UnreadableAudio
from audio.quality import QualityReport, assess_quality
from audio.segment import SegmentConfig, analyse_speech

_DIGEST_BLOCK = 1 << 20


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


def process_recording(path: Path, clips_dir: Path, config: SegmentConfig) -> RecordingOutcome:
    """Turn one recording into clip files under ``clips_dir``; the collect flow's one call.

    Unusable audio gives status 'rejected' with a reason; OSError propagates for retries.
    Re-running on the same file writes nothing new and returns the same clip ids.
    """
    path = Path(path)
    # hashlib releases the GIL on large buffers, so hashing overlaps decoding on a second core.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending_digest = pool.submit(file_digest, path)
        try:
            decoded = load_audio(path, TARGET_RATE_HZ)
        except UnreadableAudio as refusal:
            return RecordingOutcome(
                "rejected",
                refusal.reason,
                pending_digest.result(),
                None,
                None,
                None,
                None,
                None,
                [],
            )
        digest = pending_digest.result()
    analysis = analyse_speech(decoded.samples, decoded.sample_rate_hz, config)
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
