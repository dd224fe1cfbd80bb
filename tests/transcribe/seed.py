"""Rows the dispatch tests start from: a recording with collected clips, and qualified people.

Queue tests exercise the database, not audio, so clip rows point at paths that need not exist;
the exam and web tests stream real audio.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from crowdscribe.storage.models import Clip, Recording
from transcribe.users import Person, create_user

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def add_clips(
    session: Session,
    count: int,
    *,
    language: str = "en",
    project: str = "default",
    duration_s: float = 6.0,
    priority: int = 0,
    speaker_group: str = "adult",
    prefix: str | None = None,
) -> list[str]:
    """Collected clips of one new recording, created in order (so ids sort by age)."""
    prefix = prefix or f"{language}{project}"
    recording = Recording(
        source="test",
        source_path=f"/recordings/{prefix}-{count}-{priority}.wav",
        status="segmented",
        language=language,
        speaker_group=speaker_group,
        project=project,
        duration_s=count * duration_s,
        clip_count=count,
    )
    session.add(recording)
    session.flush()
    ids = []
    for number in range(count):
        clip_id = f"{prefix}-p{priority}-{number:05d}"
        session.add(
            Clip(
                id=clip_id,
                recording_id=recording.id,
                start_s=number * duration_s,
                end_s=(number + 1) * duration_s,
                duration_s=duration_s,
                audio_path=f"clips/{clip_id}.flac",
                language=language,
                speaker_group=speaker_group,
                project=project,
                status="collected",
                priority=priority,
                created_at=T0,
            )
        )
        ids.append(clip_id)
    session.flush()
    return ids


def add_person(
    session: Session, name: str, qualified: tuple[str, ...] = ("en",), languages=None
) -> Person:
    """A transcriber qualified in ``qualified``."""
    person, _token = create_user(
        session,
        name,
        roles=["transcriber"],
        languages=languages or qualified or ("en",),
        qualified=qualified,
    )
    return person
