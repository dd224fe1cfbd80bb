"""Rows the dispatch tests start from: a recording with collected clips, and qualified people.

Queue tests exercise the database, not audio, so clip rows point at paths that need not exist;
the exam and web tests stream real audio.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from crowdscribe.storage.models import Assignment, Clip, Recording, Submission
from transcribe.users import Person, create_user

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def add_recording(
    session: Session,
    source_path: str,
    *,
    language: str = "en",
    project: str = "default",
    speaker_group: str = "adult",
    **details,
) -> Recording:
    """A segmented recording for clips to belong to (no audio behind it)."""
    recording = Recording(
        source="test",
        source_path=source_path,
        status="segmented",
        language=language,
        speaker_group=speaker_group,
        project=project,
        **details,
    )
    session.add(recording)
    session.flush()
    return recording


def add_submitted(
    session: Session, clip_id: str, user_id: int, text: str, now: datetime = T0
) -> int:
    """A transcript ``user_id`` submitted for ``clip_id`` (assignment and submission rows, as
    the queue leaves them); returns the submission id."""
    assignment_id = f"a-{clip_id}-{user_id}"
    session.add(
        Assignment(
            id=assignment_id,
            clip_id=clip_id,
            user_id=user_id,
            state="submitted",
            lease_expires_at=now + timedelta(minutes=10),
        )
    )
    session.flush()
    submission = Submission(
        assignment_id=assignment_id,
        clip_id=clip_id,
        user_id=user_id,
        text=text,
        request_id=f"r-{assignment_id}",
    )
    session.add(submission)
    session.flush()
    return submission.id


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
    recording = add_recording(
        session,
        f"/recordings/{prefix}-{count}-{priority}.wav",
        language=language,
        project=project,
        speaker_group=speaker_group,
        duration_s=count * duration_s,
        clip_count=count,
    )
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
