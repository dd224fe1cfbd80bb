"""Exporting the finished dataset: manifest records, audio files, what is left out, re-export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
from sqlalchemy import update
from sqlalchemy.orm import Session

from crowdscribe.errors import Conflict, InvalidInput, NotFound
from crowdscribe.settings import Settings
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Clip, Recording
from review.export import export_dataset

RATE_HZ = 16000


def tone(seconds: float, frequency_hz: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    return (0.3 * np.sin(2 * np.pi * frequency_hz * t)).astype(np.float32)


def add_recording(session: Session, source: str, project: str = "p1", language: str = "yue") -> int:
    recording = Recording(
        source=source,
        source_path=f"/data/{source}",
        status="segmented",
        language=language,
        speaker_group="adult",
        project=project,
    )
    session.add(recording)
    session.flush()
    return recording.id


def add_clip(
    session: Session,
    home: Path,
    recording_id: int,
    clip_id: str,
    start_s: float,
    *,
    status: str = "agreed",
    text: str | None = "佢哋 [laugh] 食咗飯",
    project: str = "p1",
    frequency_hz: float = 440.0,
) -> None:
    duration_s = 1.5
    relative = f"clips/{clip_id}.flac"
    (home / "clips").mkdir(parents=True, exist_ok=True)
    soundfile.write(home / relative, tone(duration_s, frequency_hz), RATE_HZ, format="FLAC")
    session.add(
        Clip(
            id=clip_id,
            recording_id=recording_id,
            start_s=start_s,
            end_s=start_s + duration_s,
            duration_s=duration_s,
            audio_path=relative,
            language="yue",
            speaker_group="adult",
            project=project,
            status=status,
            final_text=text,
            agreement_error=0.05 if status == "agreed" else 0.4,
            decision="medoid" if status == "agreed" else "edited",
        )
    )
    session.flush()


def read_manifest(out_dir: Path) -> list[dict]:
    lines = (out_dir / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture
def home(settings: Settings) -> Path:
    return settings.home_dir


def test_export_writes_one_record_per_final_clip_with_its_audio(
    database: Database, home: Path, tmp_path: Path
) -> None:
    with database.session() as session:
        second = add_recording(session, "b.wav")
        first = add_recording(session, "a.wav")
        add_clip(session, home, second, "clip-b1", 0.0, frequency_hz=300.0)
        add_clip(session, home, first, "clip-a2", 4.0, status="resolved", text="hai6 [noise]")
        add_clip(session, home, first, "clip-a1", 0.5)
        add_clip(session, home, first, "clip-bad", 8.0, status="unusable", text=None)
        add_clip(session, home, first, "clip-open", 12.0, status="disputed", text=None)
        add_clip(session, home, first, "clip-new", 16.0, status="published", text=None)
    out_dir = tmp_path / "dataset"
    with database.session() as session:
        summary = export_dataset(session, home, out_dir)

    records = read_manifest(out_dir)
    # ordered by recording path then start time, whatever order they were stored in
    assert [record["clip_id"] for record in records] == ["clip-a1", "clip-a2", "clip-b1"]
    assert summary.clips == 3 and summary.duration_s == pytest.approx(4.5)
    assert records[1] == {
        "clip_id": "clip-a2",
        "audio_path": "audio/clip-a2.flac",
        "text": "hai6 [noise]",
        "language": "yue",
        "speaker_group": "adult",
        "duration_s": 1.5,
        "source": "a.wav",
        "recording_id": first,
        "start_s": 4.0,
        "end_s": 5.5,
        "agreement_error": 0.4,
        "decision": "edited",
        "project": "p1",
        "split": records[0]["split"],  # one recording, one split
        "speaker": f"rec{first:05d}",
        "consent_ref": None,
    }
    assert len({records[0]["split"], records[1]["split"]}) == 1
    # Chinese text is written as text, not \u escapes
    assert "佢哋 [laugh] 食咗飯" in (out_dir / "manifest.jsonl").read_text(encoding="utf-8")
    assert sorted(path.name for path in (out_dir / "audio").iterdir()) == [
        "clip-a1.flac",
        "clip-a2.flac",
        "clip-b1.flac",
    ]
    samples, rate_hz = soundfile.read(out_dir / records[2]["audio_path"], dtype="float32")
    assert rate_hz == RATE_HZ
    np.testing.assert_allclose(samples, tone(1.5, 300.0), atol=1e-4)


def test_export_can_be_limited_to_one_project(
    sqlite_database: Database, home: Path, tmp_path: Path
) -> None:
    with sqlite_database.session() as session:
        one = add_recording(session, "a.wav", project="one")
        two = add_recording(session, "b.wav", project="two")
        add_clip(session, home, one, "clip-1", 0.0, project="one")
        add_clip(session, home, two, "clip-2", 0.0, project="two")
        summary = export_dataset(session, home, tmp_path / "out", project="two")
    assert summary.clips == 1
    assert [record["clip_id"] for record in read_manifest(tmp_path / "out")] == ["clip-2"]
    assert not (tmp_path / "out" / "audio" / "clip-1.flac").exists()


def test_re_export_replaces_the_previous_export_whole(
    sqlite_database: Database, home: Path, tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    with sqlite_database.session() as session:
        recording = add_recording(session, "a.wav")
        add_clip(session, home, recording, "clip-1", 0.0)
        add_clip(session, home, recording, "clip-2", 2.0)
        export_dataset(session, home, out_dir)
        first_manifest = (out_dir / "manifest.jsonl").read_bytes()
        # the same data exports byte for byte the same
        export_dataset(session, home, out_dir)
        assert (out_dir / "manifest.jsonl").read_bytes() == first_manifest
        session.execute(update(Clip).where(Clip.id == "clip-1").values(status="unusable"))
        export_dataset(session, home, out_dir)
    assert [record["clip_id"] for record in read_manifest(out_dir)] == ["clip-2"]
    assert [path.name for path in (out_dir / "audio").iterdir()] == ["clip-2.flac"]
    # no staging or retired folders are left beside it
    assert sorted(path.name for path in tmp_path.iterdir()) == ["home", "out"]


def test_missing_clip_audio_fails_and_keeps_the_previous_export(
    sqlite_database: Database, home: Path, tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    with sqlite_database.session() as session:
        recording = add_recording(session, "a.wav")
        add_clip(session, home, recording, "clip-1", 0.0)
        export_dataset(session, home, out_dir)
        add_clip(session, home, recording, "clip-2", 2.0)
        (home / "clips" / "clip-2.flac").unlink()
        with pytest.raises(NotFound, match="audio of clip clip-2 is missing"):
            export_dataset(session, home, out_dir)
    assert [record["clip_id"] for record in read_manifest(out_dir)] == ["clip-1"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["home", "out"]


def test_export_refuses_to_replace_a_folder_that_is_not_an_export(
    sqlite_database: Database, home: Path, tmp_path: Path
) -> None:
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("keep me")
    with sqlite_database.session() as session, pytest.raises(Conflict, match="not empty"):
        export_dataset(session, home, precious)
    assert (precious / "chapter1.tex").read_text() == "keep me"


def test_an_empty_database_exports_an_empty_manifest(
    sqlite_database: Database, home: Path, tmp_path: Path
) -> None:
    with sqlite_database.session() as session:
        summary = export_dataset(session, home, tmp_path / "out")
    assert summary.clips == 0
    assert (tmp_path / "out" / "manifest.jsonl").read_text() == ""


def test_unknown_format_is_refused(sqlite_database: Database, home: Path, tmp_path: Path) -> None:
    with sqlite_database.session() as session, pytest.raises(InvalidInput, match="use jsonl, nemo"):
        export_dataset(session, home, tmp_path / "out", fmt="csv")
