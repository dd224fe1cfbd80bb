"""What was collected, read back: whether a file is in, and the recordings and clips manifests."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crowdscribe.clip_store import clip_location
from crowdscribe.errors import NotFound
from crowdscribe.storage.models import Clip, Recording, Submission


def is_collected(session: Session, source_path: Path, digest: str) -> bool:
    """Whether this exact file content at this path is already stored (so a re-run skips it)."""
    stored = session.scalar(
        select(Recording.digest).where(Recording.source_path == str(source_path))
    )
    return stored is not None and stored == digest


def recording_rows(session: Session, *, project: str | None = None) -> list[dict[str, Any]]:
    """One row per collected input, in collection order: the recordings manifest."""
    query = select(Recording).order_by(Recording.id)
    if project is not None:
        query = query.where(Recording.project == project)
    return [_recording_row(recording) for recording in session.scalars(query)]


def recording_row(session: Session, source_path: Path) -> dict[str, Any]:
    """The manifest row of the recording stored for ``source_path`` (NotFound if none)."""
    recording = session.scalar(select(Recording).where(Recording.source_path == str(source_path)))
    if recording is None:
        raise NotFound(f"{source_path} has not been collected")
    return _recording_row(recording)


def _recording_row(r: Recording) -> dict[str, Any]:
    return {
        "source": r.source,
        "source_path": r.source_path,
        "status": r.status,
        "reason": r.reason,
        "duration_s": rounded(r.duration_s, 3),
        "clips": r.clip_count,
        "language": r.language,
        "speaker_group": r.speaker_group,
        "project": r.project,
        "consent_ref": r.consent_ref,
        "digest": r.digest,
        "format": r.format,
        "source_rate_hz": r.source_rate_hz,
        "channels": r.channels,
        "peak_dbfs": rounded(r.peak_dbfs, 2),
        "clipping_ratio": rounded(r.clipping_ratio, 5),
        "loudness_dbfs": rounded(r.loudness_dbfs, 2),
        "speech_ratio": rounded(r.speech_ratio, 3),
        "snr_db": rounded(r.snr_db, 2),
        "median_f0_hz": rounded(r.median_f0_hz, 1),
    }


def rounded(value: float | None, places: int) -> float | None:
    """A measured float as people read it: ``2.56``, not ``2.5600000000000005``."""
    return None if value is None else round(value, places)


def clip_rows(
    session: Session, home: Path, *, project: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """The clip manifest: one row per clip in source order, local audio paths made absolute
    under ``home`` (URLs as stored), with how many submissions each clip has and its price
    once published."""
    submissions = (
        select(Submission.clip_id, func.count(Submission.id).label("count"))
        .group_by(Submission.clip_id)
        .subquery()
    )
    query = (
        select(Clip, Recording.source, func.coalesce(submissions.c.count, 0))
        .join(Recording, Clip.recording_id == Recording.id)
        .outerjoin(submissions, submissions.c.clip_id == Clip.id)
        .order_by(Recording.id, Clip.start_s)
    )
    if project is not None:
        query = query.where(Clip.project == project)
    if status is not None:
        query = query.where(Clip.status == status)
    return [_clip_row(clip, source, count, home) for clip, source, count in session.execute(query)]


def _clip_row(clip: Clip, source: str, submissions: int, home: Path) -> dict[str, Any]:
    row: dict[str, Any] = {
        "clip_id": clip.id,
        "source": source,
        "start_s": rounded(clip.start_s, 3),
        "end_s": rounded(clip.end_s, 3),
        "duration_s": rounded(clip.duration_s, 3),
        "audio_path": clip_location(home, clip.audio_path),
        "language": clip.language,
        "speaker_group": clip.speaker_group,
        "project": clip.project,
        "status": clip.status,
        "submissions": submissions,
    }
    if clip.price is not None:
        row["price"] = Decimal(clip.price)
        row["currency"] = clip.currency
    return row
