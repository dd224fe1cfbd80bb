"""The finished dataset: final texts of agreed and resolved clips as a JSONL manifest (one record
a line, lhotse-style) with the clip audio beside it, written whole or not at all."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdscribe.errors import Conflict, InvalidInput, NotFound
from crowdscribe.storage.models import Clip, ClipStatus, Recording

FINAL_STATUSES = (ClipStatus.AGREED, ClipStatus.RESOLVED)
MANIFEST_NAME = "manifest.jsonl"
AUDIO_DIR = "audio"


@dataclass(frozen=True)
class ExportRecord:
    """One exported clip: where its audio is (relative to the export folder) and its final text."""

    clip_id: str
    audio_path: str
    text: str
    language: str
    speaker_group: str
    duration_s: float
    source: str
    recording_id: int
    start_s: float
    end_s: float
    agreement_error: float | None
    decision: str | None
    project: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: the manifest, how many clips and how much audio."""

    out_dir: Path
    manifest_path: Path
    clips: int
    duration_s: float


def final_clips(session: Session, project: str | None = None) -> list[tuple[Clip, Recording]]:
    """Clips with a final text (agreed or resolved, never unusable) in a stable order: project,
    recording path, start time, clip id."""
    query = (
        select(Clip, Recording)
        .join(Recording, Clip.recording_id == Recording.id)
        .where(Clip.status.in_(FINAL_STATUSES), Clip.final_text.is_not(None))
        .order_by(Clip.project, Recording.source_path, Clip.start_s, Clip.id)
    )
    if project is not None:
        query = query.where(Clip.project == project)
    return [(clip, recording) for clip, recording in session.execute(query)]


def export_dataset(
    session: Session, home: Path, out_dir: Path, project: str | None = None, fmt: str = "jsonl"
) -> ExportSummary:
    """Write ``out_dir/manifest.jsonl`` and ``out_dir/audio/<clip>.flac`` for every final clip.
    Built beside ``out_dir`` and swapped in, so a re-export replaces the old one whole."""
    if fmt != "jsonl":
        raise InvalidInput(f"export format {fmt!r} is not supported; use jsonl")
    out_dir = Path(out_dir).expanduser().resolve()
    _check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        records = _write_audio(session, Path(home), staging, project)
        with (staging / MANIFEST_NAME).open("w", encoding="utf-8") as manifest:
            for record in records:
                manifest.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
        staging.chmod(0o755)
        _swap_in(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportSummary(
        out_dir=out_dir,
        manifest_path=out_dir / MANIFEST_NAME,
        clips=len(records),
        duration_s=sum(record.duration_s for record in records),
    )


def _write_audio(
    session: Session, home: Path, staging: Path, project: str | None
) -> list[ExportRecord]:
    audio_dir = staging / AUDIO_DIR
    audio_dir.mkdir()
    records = []
    for clip, recording in final_clips(session, project):
        source = Path(clip.audio_path)
        if not source.is_absolute():
            source = home / source
        if not source.is_file():
            raise NotFound(
                f"audio of clip {clip.id} is missing ({source}); nothing was exported — "
                "restore the clips folder or re-collect the recording"
            )
        relative = f"{AUDIO_DIR}/{clip.id}{source.suffix or '.flac'}"
        _link_or_copy(source, staging / relative)
        records.append(
            ExportRecord(
                clip_id=clip.id,
                audio_path=relative,
                text=clip.final_text or "",
                language=clip.language,
                speaker_group=clip.speaker_group,
                duration_s=clip.duration_s,
                source=recording.source,
                recording_id=recording.id,
                start_s=clip.start_s,
                end_s=clip.end_s,
                agreement_error=clip.agreement_error,
                decision=clip.decision,
                project=clip.project,
            )
        )
    return records


def _link_or_copy(source: Path, target: Path) -> None:
    # Clip files never change once written, so a hard link is as good as a copy and costs no
    # space; across file systems it fails and we copy.
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _check_replaceable(out_dir: Path) -> None:
    # Replacing a folder deletes it: only ever replace an earlier export (or an empty folder).
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise Conflict(f"{out_dir} exists and is not a folder; choose another export folder")
    if any(out_dir.iterdir()) and not (out_dir / MANIFEST_NAME).is_file():
        raise Conflict(
            f"{out_dir} is not empty and holds no earlier export ({MANIFEST_NAME}); "
            "choose an empty or new folder"
        )


def _swap_in(staging: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        staging.rename(out_dir)
        return
    retired = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    out_dir.rename(retired)
    try:
        staging.rename(out_dir)
    except BaseException:
        retired.rename(out_dir)
        raise
    shutil.rmtree(retired)
