"""The one place tests build what they start from: espeak-ng speech, recordings with collected
clips (rows only, or with a real audio file), people (with their tokens) and submitted
transcripts.

Queue tests exercise the database, not audio, so ``add_clips`` rows point at paths that need not
exist; review, exam and web tests stream real audio from ``add_audio_clip``.
"""

from __future__ import annotations

import io
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np
import soundfile
import soxr
from sqlalchemy.orm import Session

from crowdscribe.settings import Settings
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Assignment, Clip, Recording, Submission
from crowdscribe.storage.states import AssignmentState, ClipStatus, RecordingStatus
from transcribe.users import Person, create_user

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SAMPLE_RATE_HZ = 16000
PEAK_BARS = 120


def espeak(
    text: str,
    voice: str = "en",
    *,
    speed: int = 150,
    pitch: int = 50,
    rate_hz: int = SAMPLE_RATE_HZ,
) -> np.ndarray:
    """Real speech: espeak-ng saying ``text`` in ``voice``, as float32 samples at ``rate_hz``
    (espeak-ng's own rate is 22,050 Hz)."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    samples, source_hz = soundfile.read(io.BytesIO(wav), dtype="float32")
    if source_hz != rate_hz:
        samples = soxr.resample(samples, source_hz, rate_hz, quality="HQ")
    return samples.astype(np.float32)


def espeak_wav(path: Path, text: str, voice: str = "en") -> Path:
    """A recording as espeak-ng writes one (22,050 Hz mono 16-bit WAV), for collection tests."""
    soundfile.write(path, espeak(text, voice, rate_hz=22050), 22050, subtype="PCM_16")
    return path


def waveform_peaks(samples: np.ndarray, bars: int = PEAK_BARS) -> list[float]:
    """Largest absolute sample in each of ``bars`` equal windows, scaled to the loudest."""
    windows = np.array_split(np.abs(samples), bars)
    peaks = np.array([float(window.max()) if window.size else 0.0 for window in windows])
    top = peaks.max() or 1.0
    return [round(float(peak / top), 3) for peak in peaks]


def add_audio_clip(
    session: Session,
    settings: Settings,
    clip_id: str,
    samples: np.ndarray,
    *,
    language: str = "en",
    speaker_group: str = "adult",
    project: str = "default",
    source: str = "espeak-ng",
) -> str:
    """One recording that became one collected clip, its audio a 16 kHz FLAC file under the
    data home as collection would store it; returns the clip id."""
    path = settings.clips_dir / f"{clip_id}.flac"
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, samples, SAMPLE_RATE_HZ, format="FLAC")
    duration_s = len(samples) / SAMPLE_RATE_HZ
    recording = add_recording(
        session,
        f"/recordings/{clip_id}.wav",
        language=language,
        project=project,
        speaker_group=speaker_group,
        source=source,
        digest=clip_id,
        format="flac",
        source_rate_hz=SAMPLE_RATE_HZ,
        channels=1,
        duration_s=duration_s,
        clip_count=1,
    )
    session.add(
        Clip(
            id=clip_id,
            recording_id=recording.id,
            start_s=0.0,
            end_s=duration_s,
            duration_s=duration_s,
            audio_path=str(path.relative_to(settings.home_dir)),
            language=language,
            speaker_group=speaker_group,
            project=project,
            status=ClipStatus.COLLECTED,
            peaks=waveform_peaks(samples),
        )
    )
    session.flush()
    return clip_id


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
    details.setdefault("source", "test")
    recording = Recording(
        source_path=source_path,
        status=RecordingStatus.SEGMENTED,
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
            state=AssignmentState.SUBMITTED,
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
                status=ClipStatus.COLLECTED,
                priority=priority,
                created_at=T0,
            )
        )
        ids.append(clip_id)
    session.flush()
    return ids


class Member(NamedTuple):
    """A person and the API token they log in with."""

    person: Person
    token: str


def add_person(
    store: Session | Database,
    name: str,
    *,
    roles: tuple[str, ...] = ("transcriber",),
    languages: tuple[str, ...] | None = None,
    qualified: tuple[str, ...] | None = None,
    password: str | None = None,
) -> Member:
    """A person with ``roles`` who works in ``languages`` (else in those they are ``qualified``
    in, else English), qualified in all of them unless ``qualified`` says which; in the caller's
    session, or committed in one of ``store``'s own."""
    if isinstance(store, Database):
        with store.session() as session:
            return add_person(
                session,
                name,
                roles=roles,
                languages=languages,
                qualified=qualified,
                password=password,
            )
    if languages is None:
        languages = qualified or ("en",)
    person, token = create_user(
        store,
        name,
        roles,
        languages,
        qualified=languages if qualified is None else qualified,
        password=password,
    )
    return Member(person, token)
