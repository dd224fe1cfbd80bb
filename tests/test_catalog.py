"""Storing collection outcomes and reading the manifests back, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from audio.pipeline import process_recording
from audio.segment import SegmentConfig
from crowdscribe.errors import InvalidInput, NotFound
from crowdscribe.settings import Settings
from crowdscribe.storage import catalog
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Assignment, Clip, Recording, Submission, User
from tests.builders import add_clips, espeak_wav
from transcribe import collection
from transcribe.collection import CollectRequest

REQUEST = CollectRequest("en", "child", 15.0, "pilot", "consent-17")


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("spoken")
    return espeak_wav(folder / "kite.wav", "I flew my red kite on the hill. Then the wind stopped.")


def collect_one(database: Database, settings: Settings, path: Path, source: str | None = None):
    outcome = process_recording(path, settings.clips_dir, SegmentConfig(max_clip_s=15.0))
    with database.session() as session:
        collection.save_outcome(
            session, source or str(path), path.resolve(), REQUEST, outcome, settings.home_dir
        )
    return outcome


def test_segmented_recording_is_stored_with_its_clips(
    database: Database, settings: Settings, spoken: Path
) -> None:
    outcome = collect_one(database, settings, spoken, source="kite.wav")

    with database.session() as session:
        (recording,) = catalog.recording_rows(session)
        clips = catalog.clip_rows(session, settings.home_dir)
        stored = session.scalars(select(Clip)).all()
    assert recording["source"] == "kite.wav" and recording["status"] == "segmented"
    assert recording["clips"] == len(outcome.clips) == len(clips) >= 1
    assert recording["consent_ref"] == "consent-17" and recording["speech_ratio"] > 0
    assert recording["duration_s"] == pytest.approx(outcome.duration_s)
    assert all(not Path(clip.audio_path).is_absolute() for clip in stored)
    assert all(clip.peaks for clip in stored)
    for row in clips:
        assert Path(row["audio_path"]).is_file()
        assert Path(row["audio_path"]).is_relative_to(settings.home_dir)
        assert row["source"] == "kite.wav" and row["submissions"] == 0
        assert "price" not in row


def test_saving_the_same_content_again_changes_nothing(
    database: Database, settings: Settings, spoken: Path
) -> None:
    collect_one(database, settings, spoken)
    with database.session() as session:
        before = catalog.recording_rows(session), catalog.clip_rows(session, settings.home_dir)
        assert catalog.is_collected(session, spoken.resolve(), before[0][0]["digest"])

    collect_one(database, settings, spoken)

    with database.session() as session:
        after = catalog.recording_rows(session), catalog.clip_rows(session, settings.home_dir)
    assert after == before


def test_copy_at_another_path_is_rejected_so_nobody_is_paid_twice(
    database: Database, settings: Settings, spoken: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "kite-copy.wav"
    shutil.copyfile(spoken, copy)
    collect_one(database, settings, spoken, source="kite.wav")
    collect_one(database, settings, copy, source="kite-copy.wav")

    with database.session() as session:
        rows = {row["source"]: row for row in catalog.recording_rows(session)}
        clip_count = session.scalar(select(func.count(Clip.id)))
    assert rows["kite-copy.wav"]["status"] == "rejected"
    assert rows["kite-copy.wav"]["reason"] == "duplicate of kite.wav"
    assert clip_count == rows["kite.wav"]["clips"]


def test_rejected_file_is_stored_with_its_reason_and_no_clips(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_text("not audio at all")
    collect_one(database, settings, broken)

    with database.session() as session:
        (row,) = catalog.recording_rows(session)
    assert row["status"] == "rejected" and row["reason"] and row["clips"] == 0


def test_clip_manifest_counts_submissions_and_shows_price_once_published(
    database: Database, settings: Settings, spoken: Path
) -> None:
    collect_one(database, settings, spoken)
    now = datetime.now(UTC)
    with database.session() as session:
        clip = session.scalars(select(Clip).order_by(Clip.start_s)).first()
        clip.status, clip.price, clip.currency = "published", Decimal("0.4200"), "EUR"
        for n in range(2):
            user = User(name=f"t{n}", roles="transcriber", token_digest=f"{n:064d}")
            session.add(user)
            session.flush()
            assignment = Assignment(
                id=f"a{n}", clip_id=clip.id, user_id=user.id, lease_expires_at=now + timedelta(1)
            )
            session.add(assignment)
            session.flush()
            session.add(
                Submission(
                    assignment_id=assignment.id,
                    clip_id=clip.id,
                    user_id=user.id,
                    text="i flew my red kite",
                    request_id=f"r{n}",
                )
            )
        published_id = clip.id

    with database.session() as session:
        rows = {row["clip_id"]: row for row in catalog.clip_rows(session, settings.home_dir)}
        only_published = catalog.clip_rows(session, settings.home_dir, status="published")
        other_project = catalog.clip_rows(session, settings.home_dir, project="elsewhere")
    assert rows[published_id]["submissions"] == 2
    assert (
        rows[published_id]["price"] == Decimal("0.42") and rows[published_id]["currency"] == "EUR"
    )
    assert [row["clip_id"] for row in only_published] == [published_id]
    assert other_project == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("language", "English", "language 'English'; did you mean en"),
        ("language", "Cantonese", r"did you mean yue \(Cantonese\)"),
        ("language", "cmn-shanxi", "did you mean cmn-shaanxi"),
        ("speaker_group", "kid", "did you mean child"),
        ("speaker_group", "Old People", "choose from child, teen, adult, elderly"),
        ("project", "my project", "project 'my project'"),
        ("max_clip_s", 0.5, "outside"),
    ],
)
def test_collect_request_refuses_bad_fields_with_a_clear_message(
    field: str, value: object, message: str
) -> None:
    fields = {"language": "cmn-shaanxi", "speaker_group": "elderly", "max_clip_s": 15.0}
    fields[field] = value
    with pytest.raises(InvalidInput, match=message):
        CollectRequest(**fields)


def test_collect_request_takes_registered_codes_and_groups_in_their_own_spelling() -> None:
    assert CollectRequest("yue-hk", "elderly", 15.0).language == "yue-hk"
    assert CollectRequest(" EN", "Teen", 15.0).language == "en"
    assert CollectRequest("cmn_shaanxi", "Teen", 8.0).speaker_group == "teen"


def test_find_recordings_walks_folders_and_keeps_explicit_files(tmp_path: Path) -> None:
    (tmp_path / "a" / "deep").mkdir(parents=True)
    (tmp_path / "a" / ".cache").mkdir()
    for name in ("a/one.wav", "a/deep/two.FLAC", "a/notes.txt", "a/.hidden.wav", "a/.cache/x.wav"):
        (tmp_path / name).write_bytes(b"x")
    renamed = tmp_path / "voice.memo"
    renamed.write_bytes(b"x")

    found = collection.find_recordings([str(tmp_path / "a"), str(renamed), str(tmp_path / "a")])

    assert [source for source, _ in found] == [
        str(tmp_path / "a" / "deep" / "two.FLAC"),
        str(tmp_path / "a" / "one.wav"),
        str(renamed),
    ]
    assert all(path.is_absolute() for _, path in found)


def test_find_recordings_refuses_missing_paths_by_name(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="nope.wav"):
        collection.find_recordings([str(tmp_path), str(tmp_path / "nope.wav")])


def test_recording_row_of_an_unknown_path_is_not_found(database: Database) -> None:
    with database.session() as session, pytest.raises(NotFound):
        catalog.recording_row(session, Path("/nowhere/x.wav"))
    with database.session() as session:
        assert session.scalar(select(func.count(Recording.id))) == 0


def test_manifests_show_measured_floats_rounded(settings: Settings, sqlite_database) -> None:
    with sqlite_database.session() as session:
        [clip_id] = add_clips(session, 1, duration_s=2.5600000000000005)
        session.get(Clip, clip_id).end_s = 2.5600000000000005
        recording = session.scalar(select(Recording))
        recording.duration_s, recording.snr_db, recording.median_f0_hz = (
            2.5600000000000005,
            17.1234,
            301.26,
        )
        session.flush()
        [row] = catalog.clip_rows(session, settings.home_dir)
        [report] = catalog.recording_rows(session)
    assert (row["duration_s"], row["end_s"]) == (2.56, 2.56)
    assert (report["duration_s"], report["snr_db"], report["median_f0_hz"]) == (2.56, 17.12, 301.3)
