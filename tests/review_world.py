"""Building review scenarios through the real dispatch path: clips with real audio files are
published, people claim them and submit (or skip), exactly as the work page would.

Shared by tests/review, tests/flows, tests/web and tests/cli: ``from tests import review_world``.
"""

from __future__ import annotations

import hashlib
import itertools
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import soundfile

from crowdscribe.settings import Settings
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Clip, Recording
from review.agreement import load_policy
from review.processing import BatchSummary, complete_clip_ids, process_clips
from transcribe.dispatch.holding import skip_assignment
from transcribe.dispatch.sequences import Claim
from transcribe.dispatch.sync_runner import claim_next_clip, submit_transcript
from transcribe.pricing import default_rate_card
from transcribe.publishing import publish_clips
from transcribe.users import Person, create_user

SAMPLE_RATE_HZ = 16000
_counter = itertools.count(1)


@dataclass(frozen=True)
class Member:
    person: Person
    token: str


def add_person(
    database: Database,
    name: str,
    languages: tuple[str, ...] = ("en",),
    roles: tuple[str, ...] = ("transcriber",),
    password: str | None = None,
) -> Member:
    """A person qualified in ``languages``."""
    with database.session() as session:
        person, token = create_user(
            session, name, roles, languages, qualified=languages, password=password
        )
    return Member(person, token)


def _tone_bursts(duration_s: float, seed: int) -> np.ndarray:
    # Syllable-like bursts of a voiced tone: real audio, not silence, without any files.
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * SAMPLE_RATE_HZ)) / SAMPLE_RATE_HZ
    envelope = (np.sin(2 * np.pi * 3.0 * t) > 0).astype(np.float32)
    voice = 0.3 * np.sin(2 * np.pi * (140 + 20 * rng.random()) * t)
    return (envelope * voice + 0.003 * rng.standard_normal(t.size)).astype(np.float32)


def _spoken(text: str, path: Path) -> np.ndarray:
    wav = path.with_suffix(".wav")
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), text], check=True)
    samples, rate = soundfile.read(wav, dtype="float32")
    wav.unlink()
    if rate != SAMPLE_RATE_HZ:
        import soxr

        samples = soxr.resample(samples, rate, SAMPLE_RATE_HZ)
    return samples.astype(np.float32)


def add_clip(
    database: Database,
    settings: Settings,
    *,
    language: str = "en",
    speaker_group: str = "adult",
    project: str = "river",
    speech: str | None = None,
    duration_s: float = 2.0,
) -> str:
    """A collected clip with a real FLAC file under the data home: espeak-ng saying ``speech``,
    or voiced tone bursts. Returns the clip id."""
    number = next(_counter)
    clip_id = hashlib.sha256(f"{settings.home}-{number}".encode()).hexdigest()[:40]
    path = settings.clips_dir / f"{clip_id}.flac"
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = _spoken(speech, path) if speech else _tone_bursts(duration_s, number)
    soundfile.write(path, samples, SAMPLE_RATE_HZ, format="FLAC")
    seconds = len(samples) / SAMPLE_RATE_HZ
    peaks = [float(np.abs(chunk).max()) for chunk in np.array_split(samples, 60)]
    with database.session() as session:
        recording = Recording(
            source=f"rec-{number}.wav",
            source_path=f"/recordings/{settings.home.name}/rec-{number}.wav",
            digest=hashlib.sha256(clip_id.encode()).hexdigest(),
            status="segmented",
            language=language,
            speaker_group=speaker_group,
            project=project,
            duration_s=seconds,
            clip_count=1,
        )
        session.add(recording)
        session.flush()
        session.add(
            Clip(
                id=clip_id,
                recording_id=recording.id,
                start_s=0.0,
                end_s=seconds,
                duration_s=seconds,
                audio_path=str(path.relative_to(settings.home_dir)),
                language=language,
                speaker_group=speaker_group,
                project=project,
                status="collected",
                peaks=peaks,
            )
        )
    return clip_id


def publish(database: Database, project: str | None = None, overlap: int = 2) -> int:
    """Publish every collected clip (of ``project``) with ``overlap`` slots; returns how many."""
    with database.session() as session:
        summary = publish_clips(
            session, project=project, overlap=overlap, card=default_rate_card(), now=_now()
        )
    return summary.published


def _now() -> datetime:
    return datetime.now(UTC)


def claim(database: Database, member: Member, language: str = "en") -> Claim:
    """The next slot for ``member``; fails the test if there is none."""
    claimed = claim_next_clip(database, member.person.id, language=language, now=_now())
    assert isinstance(claimed, Claim), f"{member.person.name} got no work: {claimed}"
    return claimed


def transcribe(database: Database, member: Member, text: str, language: str = "en") -> str:
    """``member`` claims the next slot and submits ``text``; returns the clip id."""
    claimed = claim(database, member, language)
    with database.session() as session:
        submit_transcript(
            session,
            claimed.assignment_id,
            member.person.id,
            text,
            f"req-{claimed.assignment_id}",
            _now(),
        )
    return claimed.clip_id


def skip(database: Database, member: Member, reason: str, language: str = "en") -> str:
    """``member`` claims the next slot and skips it with ``reason``; returns the clip id."""
    claimed = claim(database, member, language)
    with database.session() as session:
        skip_assignment(session, claimed.assignment_id, member.person.id, reason, _now())
    return claimed.clip_id


def decide(database: Database) -> BatchSummary:
    """Decide every complete clip with the default policy, as the agreement flow would."""
    with database.session() as session:
        return process_clips(
            session,
            complete_clip_ids(session),
            policy=load_policy(None),
            card=default_rate_card(),
            max_overlap=3,
            now=_now(),
        )


def clip_row(database: Database, clip_id: str) -> Clip:
    with database.session() as session:
        return session.get(Clip, clip_id)
