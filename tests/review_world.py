"""Review scenarios through the real dispatch path: clips with real audio files (built by
``tests.builders``) are published, people (``tests.builders.add_person``) claim them and submit
(or skip), as the work page does.

Shared by tests/review, tests/flows, tests/web and tests/cli: ``from tests import review_world``.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime

import numpy as np

from crowdscribe.settings import Settings
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Clip
from review.processing import BatchSummary, complete_clip_ids, process_clips
from review.project_policies import PolicyBook
from tests.builders import SAMPLE_RATE_HZ, Member, add_audio_clip, espeak
from transcribe.dispatch.holding import skip_assignment
from transcribe.dispatch.sequences import Claim
from transcribe.dispatch.sync_runner import claim_next_clip, submit_transcript
from transcribe.pricing import default_rate_card
from transcribe.publishing import publish_clips

_counter = itertools.count(1)


def _tone_bursts(duration_s: float, seed: int) -> np.ndarray:
    # Syllable-like bursts of a voiced tone: real audio, not silence, without any files.
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * SAMPLE_RATE_HZ)) / SAMPLE_RATE_HZ
    envelope = (np.sin(2 * np.pi * 3.0 * t) > 0).astype(np.float32)
    voice = 0.3 * np.sin(2 * np.pi * (140 + 20 * rng.random()) * t)
    return (envelope * voice + 0.003 * rng.standard_normal(t.size)).astype(np.float32)


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
    samples = espeak(speech) if speech else _tone_bursts(duration_s, number)
    with database.session() as session:
        add_audio_clip(
            session,
            settings,
            clip_id,
            samples,
            language=language,
            speaker_group=speaker_group,
            project=project,
            source=f"rec-{number}.wav",
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
            policies=PolicyBook(),
            card=default_rate_card(),
            max_overlap=3,
            now=_now(),
        )


def clip_row(database: Database, clip_id: str) -> Clip:
    with database.session() as session:
        return session.get(Clip, clip_id)
