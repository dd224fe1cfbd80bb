"""The collect flow on real synthetic speech mixed with broken files, on a Prefect test server."""

from __future__ import annotations

import inspect
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from prefect.artifacts import Artifact
from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.exceptions import ParameterTypeError

import flows.collect
from crowdscribe.errors import InvalidInput, NotFound
from crowdscribe.settings import Settings
from crowdscribe.storage import catalog
from crowdscribe.storage.db import Database, open_database
from flows.collect import collect
from flows.progress import reporting_progress
from tests.builders import espeak_wav
from transcribe import collection

pytestmark = pytest.mark.usefixtures("prefect_server")

SENTENCES = (
    "The little boat sailed across the lake.",
    "My grandmother keeps chickens in her garden.",
    "We walked home slowly after the football match.",
)


def hum(path: Path, seconds: float = 4.0) -> Path:
    """Quiet mains hum with a little hiss: sound, but nobody speaking."""
    rate = 16000
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(7)
    signal = 0.01 * np.sin(2 * np.pi * 50 * t) + 0.001 * rng.standard_normal(t.size)
    soundfile.write(path, signal.astype(np.float32), rate)
    return path


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    """A folder as a coordinator gets it: speech, a noise-only file, broken files, a hidden file."""
    folder = tmp_path / "incoming"
    (folder / "day2").mkdir(parents=True)
    espeak_wav(folder / "alice.wav", " ".join(SENTENCES[:2]))
    espeak_wav(folder / "day2" / "bob.wav", SENTENCES[2])
    hum(folder / "hum.wav")
    (folder / "empty.wav").write_bytes(b"")
    (folder / "truncated.wav").write_bytes((folder / "alice.wav").read_bytes()[:30])
    (folder / "notes.wav").write_text("these are my notes, not audio\n")
    (folder / "readme.txt").write_text("not collected: not audio, not named explicitly\n")
    espeak_wav(folder / ".alice-backup.wav", SENTENCES[0])
    return folder


def run(paths: list[Path], home: Path, **options) -> dict:
    return collect(
        paths=[str(p) for p in paths],
        language=options.pop("language", "en"),
        speaker_group=options.pop("speaker_group", "adult"),
        home=str(home),
        **options,
    )


def rows_by_name(home: Path) -> dict[str, dict]:
    database = open_database(Settings(home=home).resolved_database_url)
    with database.session() as session:
        rows = catalog.recording_rows(session)
    database.dispose()
    return {Path(row["source"]).name: row for row in rows}


def clip_rows(home: Path) -> list[dict]:
    settings = Settings(home=home)
    database = open_database(settings.resolved_database_url)
    with database.session() as session:
        rows = catalog.clip_rows(session, settings.home_dir)
    database.dispose()
    return rows


def test_speech_is_segmented_and_broken_files_are_rejected_with_reasons(
    batch: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    seen: list[str] = []
    with reporting_progress(lambda row: seen.append(row["source"])):
        summary = run([batch], home, project="Pilot_1")

    rows = rows_by_name(home)
    assert set(rows) == {
        "alice.wav",
        "bob.wav",
        "hum.wav",
        "empty.wav",
        "truncated.wav",
        "notes.wav",
    }
    assert sorted(seen) == sorted(row["source"] for row in rows.values())
    assert rows["bob.wav"]["source"] == str(batch / "day2" / "bob.wav")
    for name in ("alice.wav", "bob.wav"):
        assert rows[name]["status"] == "segmented"
        assert rows[name]["clips"] >= 1
        assert rows[name]["format"] == "wav" and rows[name]["source_rate_hz"] == 22050
    assert rows["hum.wav"]["status"] == "no_speech"
    for name in ("empty.wav", "truncated.wav", "notes.wav"):
        assert rows[name]["status"] == "rejected"
        assert rows[name]["reason"], f"{name} rejected without a reason"
        assert rows[name]["clips"] == 0

    clips = clip_rows(home)
    assert len(clips) == rows["alice.wav"]["clips"] + rows["bob.wav"]["clips"]
    for clip in clips:
        assert Path(clip["audio_path"]).is_file()
        assert 0 <= clip["start_s"] < clip["end_s"]
        assert clip["duration_s"] == pytest.approx(clip["end_s"] - clip["start_s"])
        assert (clip["language"], clip["speaker_group"], clip["project"]) == (
            "en",
            "adult",
            "Pilot_1",
        )
        assert clip["status"] == "collected" and clip["submissions"] == 0
    alice = rows["alice.wav"]["duration_s"]
    assert all(c["end_s"] <= alice + 0.01 for c in clips if c["source"].endswith("alice.wav"))

    assert summary["recordings"] == 6
    assert summary["statuses"] == {"segmented": 2, "no_speech": 1, "rejected": 3}
    assert summary["clips"] == len(clips) and summary["failed"] == []
    artifact = Artifact.get("collect-pilot-1")
    assert artifact is not None and "truncated.wav" in str(artifact.data)


def test_rerun_creates_nothing_twice(batch: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = run([batch], home)
    clips_before = clip_rows(home)
    files_before = {p: p.stat().st_mtime_ns for p in (home / "clips").rglob("*") if p.is_file()}

    second = run([batch], home)

    assert second["already_collected"] == second["recordings"] == first["recordings"]
    assert second["statuses"] == first["statuses"] and second["clips"] == first["clips"]
    assert clip_rows(home) == clips_before
    assert {p: p.stat().st_mtime_ns for p in (home / "clips").rglob("*") if p.is_file()} == (
        files_before
    )


def test_changed_file_is_collected_again(tmp_path: Path) -> None:
    home = tmp_path / "home"
    recording = espeak_wav(tmp_path / "take.wav", SENTENCES[0])
    run([recording], home)
    old_ids = {clip["clip_id"] for clip in clip_rows(home)}

    espeak_wav(recording, " ".join(SENTENCES))
    summary = run([recording], home)

    new_clips = clip_rows(home)
    assert summary["already_collected"] == 0
    assert {clip["clip_id"] for clip in new_clips}.isdisjoint(old_ids)
    assert rows_by_name(home)["take.wav"]["duration_s"] > 6


def test_same_content_at_another_path_is_rejected_as_duplicate(tmp_path: Path) -> None:
    home = tmp_path / "home"
    original = espeak_wav(tmp_path / "original.wav", SENTENCES[1])
    run([original], home)
    copy = tmp_path / "copy.wav"
    shutil.copyfile(original, copy)

    run([copy], home)

    rows = rows_by_name(home)
    assert rows["copy.wav"]["status"] == "rejected"
    assert rows["copy.wav"]["reason"] == f"duplicate of {original}"
    assert len(clip_rows(home)) == rows["original.wav"]["clips"]


def test_two_copies_in_one_batch_yield_one_set_of_clips(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = espeak_wav(tmp_path / "a.wav", SENTENCES[2])
    shutil.copyfile(first, tmp_path / "b.wav")

    summary = run([tmp_path / "a.wav", tmp_path / "b.wav"], home)

    assert summary["statuses"] == {"segmented": 1, "rejected": 1}
    rejected = [row for row in rows_by_name(home).values() if row["status"] == "rejected"]
    assert rejected[0]["reason"].startswith("duplicate of ")


def test_crash_midway_loses_nothing_and_rerun_finishes(
    batch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    real = flows.collect.process_recording

    def crashing(path: Path, clips_dir: Path, config):
        if path.name == "bob.wav":
            raise RuntimeError("worker died")
        return real(path, clips_dir, config)

    monkeypatch.setattr(flows.collect, "process_recording", crashing)
    interrupted = run([batch], home)
    assert [f["source"] for f in interrupted["failed"]] == [str(batch / "day2" / "bob.wav")]
    assert "bob.wav" not in rows_by_name(home)
    assert rows_by_name(home)["alice.wav"]["status"] == "segmented"

    monkeypatch.setattr(flows.collect, "process_recording", real)
    finished = run([batch], home)

    assert finished["failed"] == [] and finished["already_collected"] == 5
    assert rows_by_name(home)["bob.wav"]["status"] == "segmented"


def test_transient_disk_error_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    recording = espeak_wav(tmp_path / "flaky.wav", SENTENCES[0])
    real = flows.collect.process_recording
    calls: list[Path] = []

    def flaky(path: Path, clips_dir: Path, config):
        calls.append(path)
        if len(calls) == 1:
            raise OSError("network share went away")
        return real(path, clips_dir, config)

    monkeypatch.setattr(flows.collect, "process_recording", flaky)
    summary = run([recording], home)

    assert len(calls) == 2
    assert summary["statuses"] == {"segmented": 1} and summary["failed"] == []


def test_missing_path_refuses_the_batch_and_stores_nothing(batch: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    with pytest.raises(NotFound, match="nowhere.wav"):
        run([batch, tmp_path / "nowhere.wav"], home)
    assert rows_by_name(home) == {}


def test_bad_language_code_is_refused(batch: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="language 'English'"):
        run([batch], tmp_path / "home", language="English")


def test_parallel_collect_into_postgresql_pays_each_content_once(
    postgres_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n, text in enumerate(SENTENCES):
        espeak_wav(tmp_path / f"s{n}.wav", text)
    shutil.copyfile(tmp_path / "s0.wav", tmp_path / "s0-again.wav")

    monkeypatch.setenv("CROWDSCRIBE_DATABASE_URL", postgres_database.url)
    summary = run([tmp_path], tmp_path / "home")

    assert summary["statuses"] == {"segmented": 3, "rejected": 1}
    with postgres_database.session() as session:
        rows = {Path(row["source"]).name: row for row in catalog.recording_rows(session)}
        clips = catalog.clip_rows(session, tmp_path / "home")
    duplicates = [row for row in rows.values() if row["status"] == "rejected"]
    assert {row["source"] for row in duplicates} <= {
        str(tmp_path / n) for n in ("s0.wav", "s0-again.wav")
    }
    assert len(clips) == sum(row["clips"] for row in rows.values())


def test_clips_are_no_longer_than_the_configured_max_clip_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    talk = espeak_wav(tmp_path / "talk.wav", " ".join(SENTENCES))
    monkeypatch.setenv("CROWDSCRIBE_MAX_CLIP_S", "3.5")
    run([talk], tmp_path / "home")
    durations = [clip["duration_s"] for clip in clip_rows(tmp_path / "home")]
    assert len(durations) >= 2
    assert max(durations) <= 3.5 + 1e-6


def test_hostile_audio_is_refused_or_held_never_paid_silently(tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    speech, rate = soundfile.read(espeak_wav(tmp_path / "s.wav", SENTENCES[0]), dtype="float32")
    soundfile.write(folder / "clipped.wav", np.clip(speech * 8, -1, 1), rate, subtype="PCM_16")
    corrupt = speech.copy()
    corrupt[rate : rate + 100] = np.inf
    corrupt[2 * rate] = np.nan
    soundfile.write(folder / "nan.wav", corrupt, rate, subtype="FLOAT")
    whole = (Path(__file__).parents[2] / "samples" / "en" / "zoo_trip.mp3").read_bytes()
    (folder / "cut.mp3").write_bytes(whole[: int(len(whole) * 0.3)])
    os.mkfifo(folder / "pipe.wav")  # named explicitly: refused, never opened (no hang)
    home = tmp_path / "home"

    summary = run([folder, folder / "pipe.wav"], home)

    rows = rows_by_name(home)
    assert summary["statuses"] == {"held": 1, "rejected": 3}
    assert rows["clipped.wav"]["reason"].startswith("heavy clipping: ")
    assert rows["clipped.wav"]["clipping_ratio"] >= 0.01 and rows["clipped.wav"]["clips"] >= 1
    assert rows["nan.wav"]["reason"].startswith("corrupt: 101 sample frame(s) are not numbers")
    assert rows["cut.mp3"]["reason"].startswith("truncated: the MP3 breaks off")
    assert rows["pipe.wav"]["reason"] == (
        "not a regular file: pipe.wav is a FIFO (named pipe); copy the audio to a file"
    )
    json.dumps(list(rows.values()), allow_nan=False)  # no Infinity/NaN reaches a manifest
    assert {clip["status"] for clip in clip_rows(home)} == {"held"}

    database = open_database(Settings(home=home).resolved_database_url)
    with database.session() as session:
        released = collection.release_recording(session, str(folder / "clipped.wav"))
    with pytest.raises(InvalidInput, match="not held"), database.session() as session:
        collection.release_recording(session, str(folder / "nan.wav"))
    database.dispose()
    assert released == rows["clipped.wav"]["clips"]
    assert {clip["status"] for clip in clip_rows(home)} == {"collected"}
    assert rows_by_name(home)["clipped.wav"]["status"] == "segmented"


def test_stale_temporary_clips_are_removed_on_the_next_run(tmp_path: Path) -> None:
    clips = tmp_path / "home" / "clips"
    clips.mkdir(parents=True)
    now = time.time()
    orphan = clips / ".c00000000000000000001.999999999.tmp"  # its writer is gone
    abandoned = clips / f".c00000000000000000002.{os.getpid()}.tmp"  # untouched for 20 min
    writing = clips / f".c00000000000000000003.{os.getpid()}.tmp"  # being written now
    for path, age_s in ((orphan, 120), (abandoned, 1200), (writing, 0)):
        path.write_bytes(b"fLaC partial")
        os.utime(path, (now - age_s, now - age_s))

    run([espeak_wav(tmp_path / "take.wav", SENTENCES[0])], tmp_path / "home")

    assert not orphan.exists() and not abandoned.exists()
    assert writing.exists()
    assert not [p for p in clips.iterdir() if p.suffix == ".tmp" and p != writing]


def test_a_run_is_given_plain_values_checked_against_the_flow_signature(
    batch: Path, tmp_path: Path
) -> None:
    # A run started from Prefect's UI or API gets its parameters checked: one path given as a
    # bare string was read as a list of one-letter paths.
    with pytest.raises(ParameterTypeError, match="paths"):
        collect(paths=str(batch), language="en", speaker_group="adult", home=str(tmp_path))

    run_ids: list[str] = []
    with reporting_progress(lambda row: run_ids.append(str(FlowRunContext.get().flow_run.id))):
        summary = run([batch], tmp_path / "home", max_clip_s="12.5")  # as a form may send it
    assert summary["clips"] > 0
    with get_client(sync_client=True) as client:
        stored = client.read_flow_run(run_ids[0]).parameters
    assert set(stored) == set(inspect.signature(collect.fn).parameters)
    assert json.loads(json.dumps(stored)) == stored  # nothing but JSON values
