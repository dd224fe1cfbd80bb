"""Collecting recordings as work: which files to take, what a batch says about them, and how each
recording's outcome is stored with its clips (duplicates rejected, changed files replaced)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, false, func, select, update
from sqlalchemy.orm import Session

from crowdscribe.clip_store import ClipStore, stored_clip_path
from crowdscribe.errors import InvalidInput, NotFound
from crowdscribe.languages import check_language, check_speaker_group
from crowdscribe.storage.models import Clip, Recording
from crowdscribe.storage.states import ClipStatus, RecordingStatus

if TYPE_CHECKING:
    from audio.pipeline import RecordingOutcome

PROJECT_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MIN_CLIP_S, MAX_CLIP_S = 2.0, 60.0
AUDIO_EXTENSIONS = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".aif", ".aiff"}
    | {".caf", ".wma", ".webm", ".amr", ".au"}
)
MANIFESTS_DIR = "manifests"


@dataclass(frozen=True)
class CollectRequest:
    """What the coordinator says about a batch of recordings; checked when built."""

    language: str
    speaker_group: str
    max_clip_s: float
    project: str = "default"
    consent_ref: str | None = None

    def __post_init__(self) -> None:
        # Frozen, so the registry's spelling of each is set through object.__setattr__.
        object.__setattr__(self, "language", check_language(self.language))
        object.__setattr__(self, "speaker_group", check_speaker_group(self.speaker_group))
        if not PROJECT_PATTERN.fullmatch(self.project):
            raise InvalidInput(
                f"project {self.project!r} must be letters, digits, '-', '_' or '.' (at most 64)"
            )
        if not MIN_CLIP_S <= self.max_clip_s <= MAX_CLIP_S:
            raise InvalidInput(
                f"max clip length {self.max_clip_s} s is outside {MIN_CLIP_S:g}–{MAX_CLIP_S:g} s"
            )


def find_recordings(paths: list[str]) -> list[tuple[str, Path]]:
    """The files to collect, as (path as given, absolute path): files named explicitly whatever
    their extension (so a broken or renamed file is reported), audio files found in folders
    recursively, hidden ones skipped. Refuses the whole batch if any path does not exist."""
    missing = [given for given in paths if not Path(given).exists()]
    if missing:
        raise NotFound("no such file or folder: " + ", ".join(missing) + "; nothing was collected")
    found: dict[Path, str] = {}
    for given in paths:
        root = Path(given)
        if not root.is_dir():
            found.setdefault(root.resolve(), given)
            continue
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if any(part.startswith(".") for part in relative.parts) or not path.is_file():
                continue
            if path.suffix.lower() in AUDIO_EXTENSIONS:
                found.setdefault(path.resolve(), str(root / relative))
    return [(source, source_path) for source_path, source in found.items()]


def save_outcome(
    session: Session,
    source: str,
    source_path: Path,
    request: CollectRequest,
    outcome: RecordingOutcome,
    home: Path,
) -> None:
    """Store one recording and its clips (clip files inside the data ``home`` are kept relative
    to it, others as absolute paths or URLs). Same content again changes nothing; changed
    content replaces the unpublished clips; content already collected at another path is
    rejected as a duplicate."""
    _lock_content(session, outcome.digest)
    recording = session.scalar(select(Recording).where(Recording.source_path == str(source_path)))
    if recording is not None and outcome.digest is not None and recording.digest == outcome.digest:
        return
    status, reason = outcome.status, outcome.reason
    original = _collected_elsewhere(session, source_path, outcome.digest)
    if original is not None:
        status, reason = RecordingStatus.REJECTED, f"duplicate of {original}"
    if recording is None:
        recording = Recording(source_path=str(source_path))
    else:
        session.execute(
            delete(Clip).where(
                Clip.recording_id == recording.id,
                Clip.status.in_((ClipStatus.COLLECTED, ClipStatus.HELD)),
            )
        )
    _fill_recording(recording, source, request, outcome, status, reason)
    session.add(recording)
    session.flush()
    if status in (RecordingStatus.SEGMENTED, RecordingStatus.HELD):
        recording.clip_count = _add_clips(session, recording, request, outcome, home)


def _lock_content(session: Session, digest: str | None) -> None:
    # Two copies of one file collected at the same moment must not both become paid clips:
    # hold a write lock (SQLite) or a per-content advisory lock (PostgreSQL) before checking.
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(
            hashlib.sha256((digest or "").encode()).digest()[:8], "big", signed=True
        )
        session.execute(select(func.pg_advisory_xact_lock(key)))
    else:
        session.execute(update(Recording).where(false()).values(status=Recording.status))


def _collected_elsewhere(session: Session, source_path: Path, digest: str | None) -> str | None:
    if digest is None:
        return None
    return session.scalar(
        select(Recording.source)
        .where(
            Recording.digest == digest,
            Recording.source_path != str(source_path),
            Recording.status != RecordingStatus.REJECTED,
        )
        .order_by(Recording.id)
        .limit(1)
    )


def _fill_recording(
    recording: Recording,
    source: str,
    request: CollectRequest,
    outcome: RecordingOutcome,
    status: str,
    reason: str | None,
) -> None:
    quality = outcome.quality
    recording.source = source
    recording.digest = outcome.digest
    recording.status = status
    recording.reason = reason
    recording.language = request.language
    recording.speaker_group = request.speaker_group
    recording.project = request.project
    recording.consent_ref = request.consent_ref
    recording.format = outcome.format
    recording.source_rate_hz = outcome.source_rate_hz
    recording.channels = outcome.channels
    recording.duration_s = outcome.duration_s
    recording.peak_dbfs = quality.peak_dbfs if quality else None
    recording.clipping_ratio = quality.clipping_ratio if quality else None
    recording.loudness_dbfs = quality.loudness_dbfs if quality else None
    recording.speech_ratio = quality.speech_ratio if quality else None
    recording.snr_db = quality.snr_db if quality else None
    recording.clip_count = 0


def _add_clips(
    session: Session,
    recording: Recording,
    request: CollectRequest,
    outcome: RecordingOutcome,
    home: Path,
) -> int:
    ids = [clip.clip_id for clip in outcome.clips]
    # A clip kept from an earlier version of this file (already published) keeps its row.
    existing = set(session.scalars(select(Clip.id).where(Clip.id.in_(ids)))) if ids else set()
    for clip in outcome.clips:
        if clip.clip_id in existing:
            continue
        session.add(
            Clip(
                id=clip.clip_id,
                recording_id=recording.id,
                start_s=clip.span.start_s,
                end_s=clip.span.end_s,
                duration_s=clip.span.end_s - clip.span.start_s,
                audio_path=stored_clip_path(home, clip.location),
                language=request.language,
                speaker_group=request.speaker_group,
                project=request.project,
                # A held recording's clips wait for a coordinator; only collected ones publish.
                status=(
                    ClipStatus.HELD
                    if recording.status == RecordingStatus.HELD
                    else ClipStatus.COLLECTED
                ),
                peaks=[float(peak) for peak in clip.peaks],
            )
        )
    return len(outcome.clips)


def write_manifest(
    store: ClipStore, source: str, request: CollectRequest, outcome: RecordingOutcome
) -> str | None:
    """Write a recording's clips manifest beside its clips (JSONL, one clip a line, lhotse
    style) so the clips can be used without the database; returns its location, or None when
    there are no clips. Named by the recording's content, so a re-run rewrites the same file."""
    if not outcome.clips or outcome.digest is None:
        return None
    lines = [
        json.dumps(record, ensure_ascii=False) + "\n"
        for record in manifest_records(source, request, outcome)
    ]
    return store.write_bytes(
        f"{MANIFESTS_DIR}/{outcome.digest}.jsonl", "".join(lines).encode("utf-8")
    )


def manifest_records(
    source: str, request: CollectRequest, outcome: RecordingOutcome
) -> list[dict[str, Any]]:
    """One manifest record per clip: where its audio is, where it lies in its recording, and
    what the coordinator said about the recording."""
    return [
        {
            "clip_id": clip.clip_id,
            "audio": clip.location,
            **clip.span.to_dict(),
            "source": source,
            "recording_digest": outcome.digest,
            "status": outcome.status,
            "language": request.language,
            "speaker_group": request.speaker_group,
            "project": request.project,
            "consent_ref": request.consent_ref,
        }
        for clip in outcome.clips
    ]


def release_recording(session: Session, source: str) -> int:
    """Let a held recording's clips go to paid work (a coordinator listened and accepts it);
    returns how many clips were released. ``source`` is the path as given or as stored."""
    recording = session.scalars(
        select(Recording)
        .where(
            (Recording.source == source) | (Recording.source_path == str(Path(source).resolve()))
        )
        .order_by(Recording.id)
    ).first()
    if recording is None:
        raise NotFound(f"no recording {source}; `crowdscribe recordings` lists them")
    if recording.status != RecordingStatus.HELD:
        raise InvalidInput(f"{source} is {recording.status}, not held; nothing to release")
    released = session.execute(
        update(Clip)
        .where(Clip.recording_id == recording.id, Clip.status == ClipStatus.HELD)
        .values(status=ClipStatus.COLLECTED)
    ).rowcount
    recording.status = RecordingStatus.SEGMENTED
    recording.reason = f"released by a coordinator (was held: {recording.reason})"
    return released


def record_pitch(session: Session, source_path: Path, median_f0_hz: float | None) -> None:
    """Keep a recording's median voice pitch in its quality report (``audio.pitch``)."""
    session.execute(
        update(Recording)
        .where(Recording.source_path == str(source_path))
        .values(median_f0_hz=median_f0_hz)
    )
