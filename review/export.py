"""The finished dataset: final texts of agreed and resolved clips with their audio, split into
train, dev and test without letting a recording cross splits, in the layout a training toolkit
reads (``review.export_formats``), written whole or not at all.

Items carry the recording's consent reference and speaker group; nothing about who transcribed
them. Chinese text is written in the project's script (OpenCC), or as typed if none is set.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

import opencc
from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdscribe.clip_store import clip_exists, clip_location
from crowdscribe.errors import Conflict, InvalidInput, NotFound
from crowdscribe.storage.models import Clip, Recording
from crowdscribe.storage.states import ClipStatus
from review.dataset_split import SPLIT_NAMES, SplitItem, assign_splits
from review.export_formats import AUDIO_DIR, MANIFEST_NAME, WRITERS
from transcribe.conventions import is_chinese

FINAL_STATUSES = (ClipStatus.AGREED, ClipStatus.RESOLVED)
SUMMARY_NAME = "export.json"
# The script of exported Chinese text, and the OpenCC conversion to it.
SCRIPTS = {"simplified": "t2s", "traditional": "s2t"}
DEFAULT_RATIOS = (0.8, 0.1, 0.1)


@dataclass(frozen=True)
class ExportRecord:
    """One exported clip: where its audio is (relative to the export folder), its final text,
    the split it went to and the group (recording) that kept it there."""

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
    split: str
    speaker: str
    consent_ref: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ExportItem:
    """A record with the clip file it was made from (a local path or a URL)."""

    record: ExportRecord
    source: str


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: its format, clips and audio per split, and (jsonl) the manifest."""

    out_dir: Path
    manifest_path: Path | None
    fmt: str
    clips: int
    duration_s: float
    splits: dict[str, dict[str, float]]


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


@lru_cache(maxsize=2)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def in_script(text: str, language: str, script: str | None) -> str:
    """``text`` in ``script`` (simplified or traditional) if the language is Chinese."""
    if script is None or not is_chinese(language):
        return text
    if script not in SCRIPTS:
        raise InvalidInput(f"script {script!r} is not one of {', '.join(SCRIPTS)}")
    return _converter(SCRIPTS[script]).convert(text)


def speaker_of(recording: Recording) -> str:
    """The speaker an item is filed under: recordings carry no speaker id yet, so each recording
    is one speaker (Kaldi's usual choice when speakers are unknown)."""
    return f"rec{recording.id:05d}"


def export_dataset(
    session: Session,
    home: Path,
    out_dir: Path,
    project: str | None = None,
    fmt: str = "jsonl",
    ratios: tuple[float, float, float] = DEFAULT_RATIOS,
    script_for: Callable[[str], str | None] = lambda _project: None,
) -> ExportSummary:
    """Write every final clip to ``out_dir`` in ``fmt`` (see ``review.export_formats``), split
    by ``ratios``; ``script_for(project)`` is the script of its Chinese text. Built beside
    ``out_dir`` and swapped in, so a re-export replaces the old one whole."""
    if fmt not in WRITERS:
        raise InvalidInput(f"export format {fmt!r} is not supported; use {', '.join(WRITERS)}")
    out_dir = Path(out_dir).expanduser().resolve()
    _check_replaceable(out_dir)
    items = export_items(session, Path(home), project, ratios, script_for)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    splits = split_totals([item.record for item in items])
    try:
        WRITERS[fmt](staging, out_dir, items)
        summary = {"format": fmt, "ratios": list(ratios), "splits": splits}
        (staging / SUMMARY_NAME).write_text(json.dumps(summary, indent=2) + "\n")
        staging.chmod(0o755)
        _swap_in(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportSummary(
        out_dir=out_dir,
        manifest_path=out_dir / MANIFEST_NAME if fmt == "jsonl" else None,
        fmt=fmt,
        clips=len(items),
        duration_s=sum(item.record.duration_s for item in items),
        splits=splits,
    )


def split_totals(records: list[ExportRecord]) -> dict[str, dict[str, float]]:
    """Clips and audio seconds per split, in split order."""
    totals = {name: {"clips": 0, "duration_s": 0.0} for name in SPLIT_NAMES}
    for record in records:
        totals[record.split]["clips"] += 1
        totals[record.split]["duration_s"] += record.duration_s
    return totals


def export_items(
    session: Session,
    home: Path,
    project: str | None,
    ratios: tuple[float, float, float],
    script_for: Callable[[str], str | None],
) -> list[ExportItem]:
    """Every final clip as an export item, its split assigned by recording; its audio must be
    where the database says (on disk or in the object store), or nothing is exported."""
    items = []
    for clip, recording in final_clips(session, project):
        source = clip_location(home, clip.audio_path)
        if not clip_exists(source):
            raise NotFound(
                f"audio of clip {clip.id} is missing ({source}); nothing was exported — "
                "restore the clips folder or re-collect the recording"
            )
        record = ExportRecord(
            clip_id=clip.id,
            audio_path=f"{AUDIO_DIR}/{clip.id}{PurePosixPath(source).suffix or '.flac'}",
            text=in_script(clip.final_text or "", clip.language, script_for(clip.project)),
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
            split="",
            speaker=speaker_of(recording),
            consent_ref=recording.consent_ref,
        )
        items.append(ExportItem(record, source))
    split_of = assign_splits(
        [SplitItem(i.record.clip_id, i.record.speaker, i.record.duration_s) for i in items], ratios
    )
    return [
        ExportItem(replace(item.record, split=split_of[item.record.clip_id]), item.source)
        for item in items
    ]


def _check_replaceable(out_dir: Path) -> None:
    # Replacing a folder deletes it: only ever replace an earlier export (or an empty folder).
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise Conflict(f"{out_dir} exists and is not a folder; choose another export folder")
    earlier = (out_dir / SUMMARY_NAME).is_file() or (out_dir / MANIFEST_NAME).is_file()
    if any(out_dir.iterdir()) and not earlier:
        raise Conflict(
            f"{out_dir} is not empty and holds no earlier export ({SUMMARY_NAME}); "
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
