"""``crowdscribe collect``, ``recordings`` and ``clips`` run as a coordinator runs them."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.builders import espeak_wav
from tests.commands import crowdscribe

CROWDSCRIBE = Path(sys.executable).parent / "crowdscribe"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, prefect_server: str) -> dict[str, str]:
    """A data home and a Prefect home of our own, so nothing touches anyone else's data; flows
    report to the session's Prefect server instead of starting one per command."""
    base = tmp_path_factory.mktemp("cli")
    return {
        **os.environ,
        "CROWDSCRIBE_HOME": str(base / "home"),
        "PREFECT_HOME": str(base / "prefect"),
        "PREFECT_API_URL": prefect_server,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "COLUMNS": "200",
    }


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("batch")
    espeak_wav(folder / "lily.wav", "Lily found a blue feather by the river. She kept it in a box.")
    (folder / "empty.wav").write_bytes(b"")
    (folder / "letter.wav").write_text("Dear Sir, this is a letter, not a recording.")
    return folder


def jsonl(result: subprocess.CompletedProcess[str]) -> list[dict]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def collected(env: dict[str, str], batch: Path) -> subprocess.CompletedProcess[str]:
    assert crowdscribe(env, "projects", "create", "river").returncode == 0
    return crowdscribe(
        env, "collect", str(batch), "--language", "en", "--speaker-group", "child",
        "--project", "river", "--consent", "form-9",
    )  # fmt: skip


def test_collect_exits_0_when_every_input_is_segmented_or_has_a_reason(
    collected: subprocess.CompletedProcess[str],
) -> None:
    assert collected.returncode == 0, collected.stderr
    assert "lily.wav" in collected.stdout and "letter.wav" in collected.stdout
    assert "3 recording(s): 2 rejected, 1 segmented" in collected.stdout


def test_recordings_jsonl_has_one_line_per_input(
    env: dict[str, str], batch: Path, collected: subprocess.CompletedProcess[str]
) -> None:
    rows = {
        Path(row["source"]).name: row
        for row in jsonl(crowdscribe(env, "recordings", "--format", "jsonl"))
    }

    assert set(rows) == {"lily.wav", "empty.wav", "letter.wav"}
    assert rows["lily.wav"]["source"] == str(batch / "lily.wav")
    assert rows["lily.wav"]["status"] == "segmented" and rows["lily.wav"]["clips"] >= 1
    assert rows["lily.wav"]["duration_s"] > 3 and rows["lily.wav"]["reason"] is None
    for name in ("empty.wav", "letter.wav"):
        assert rows[name]["status"] == "rejected" and rows[name]["reason"]
        assert rows[name]["clips"] == 0


def test_clips_jsonl_is_the_manifest(
    env: dict[str, str], collected: subprocess.CompletedProcess[str]
) -> None:
    clips = jsonl(crowdscribe(env, "clips", "--format", "jsonl", "--project", "river"))

    assert clips
    for clip in clips:
        assert {"clip_id", "source", "start_s", "end_s", "duration_s", "audio_path", "language",
                "speaker_group", "status", "submissions"} <= set(clip)  # fmt: skip
        assert Path(clip["audio_path"]).is_absolute() and Path(clip["audio_path"]).is_file()
        assert (clip["language"], clip["speaker_group"], clip["status"]) == (
            "en",
            "child",
            "collected",
        )
        assert clip["submissions"] == 0
    assert jsonl(crowdscribe(env, "clips", "--format", "jsonl", "--status", "published")) == []
    unknown = crowdscribe(env, "clips", "--format", "jsonl", "--project", "other")
    assert unknown.returncode == 2 and "no project named 'other'" in unknown.stderr


def test_tables_are_readable(
    env: dict[str, str], collected: subprocess.CompletedProcess[str]
) -> None:
    table = crowdscribe(env, "recordings", "--format", "table")
    assert table.returncode == 0
    assert "segmented" in table.stdout and "rejected" in table.stdout


def test_strict_exits_1_when_anything_was_rejected(
    env: dict[str, str], batch: Path, collected: subprocess.CompletedProcess[str]
) -> None:
    result = crowdscribe(
        env, "collect", str(batch), "--language", "en", "--speaker-group", "child",
        "--project", "river", "--strict",
    )  # fmt: skip

    assert result.returncode == 1, result.stderr
    assert "3 already collected" in result.stdout
    assert len(jsonl(crowdscribe(env, "recordings", "--format", "jsonl"))) == 3


def test_missing_path_exits_2_and_collects_nothing(env: dict[str, str], tmp_path: Path) -> None:
    espeak_wav(tmp_path / "real.wav", "This one exists.")
    own_env = {**env, "CROWDSCRIBE_HOME": str(tmp_path / "home")}

    result = crowdscribe(
        own_env, "collect", str(tmp_path / "real.wav"), str(tmp_path / "typo.wav"),
        "--language", "en", "--speaker-group", "adult",
    )  # fmt: skip

    assert result.returncode == 2
    assert "no such file or folder" in result.stderr and "typo.wav" in result.stderr
    assert jsonl(crowdscribe(own_env, "recordings", "--format", "jsonl")) == []


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("--language", "English", "did you mean en (English)?"),
     ("--language", "Cantonese", "did you mean yue (Cantonese)?"),
     ("--speaker-group", "kid", "did you mean child?"),
     ("--project", "rivre", "did you mean river?")],
)  # fmt: skip
def test_bad_language_group_or_project_exits_2_with_a_hint(
    env: dict[str, str],
    batch: Path,
    collected: subprocess.CompletedProcess[str],
    option: str,
    value: str,
    message: str,
) -> None:
    args = {"--language": "en", "--speaker-group": "adult", option: value}
    result = crowdscribe(env, "collect", str(batch), *[x for kv in args.items() for x in kv])

    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def long_recording(path: Path, minutes: float) -> Path:
    """A recording long enough that a run is still busy with it when it is stopped."""
    short = espeak_wav(path.with_suffix(".short.wav"), "The boat sailed on across the wide lake.")
    repeats = int(minutes * 60 / 3)
    subprocess.run(["sox", str(short), str(path), "repeat", str(repeats)], check=True)
    short.unlink()
    return path


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_stopped_run_keeps_what_was_collected_and_rerun_finishes(
    env: dict[str, str], tmp_path: Path, stop: signal.Signals
) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    for n, text in enumerate(("The cat sat in the sun.", "Rain fell on the roof.", "A bell rang.")):
        espeak_wav(folder / f"take{n}.wav", text)
    busy = long_recording(folder / "a_long_day.wav", 60)  # submitted first, still running
    own_env = {**env, "CROWDSCRIBE_HOME": str(tmp_path / "home")}
    args = ["collect", str(folder), "--language", "en", "--speaker-group", "adult"]
    run = subprocess.Popen(
        [str(CROWDSCRIBE), *args], env=own_env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        database = tmp_path / "home" / "crowdscribe.db"
        deadline = time.monotonic() + 120
        while _stored(database) < 3:
            assert time.monotonic() < deadline and run.poll() is None, "the run never got going"
            time.sleep(0.1)
        assert _stored(database) == 3, "the long recording finished before the stop"
        os.kill(run.pid, stop)
        # SIGTERM and Ctrl-C stop the run promptly, with a failing exit code.
        returncode = run.wait(timeout=30)
        assert returncode != 0
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()

    busy.unlink()
    espeak_wav(busy, "Now the last one is a short recording.")
    rerun = crowdscribe(own_env, *args)

    assert rerun.returncode == 0, rerun.stderr
    assert "3 already collected" in rerun.stdout
    rows = jsonl(crowdscribe(own_env, "recordings", "--format", "jsonl"))
    assert sorted(Path(row["source"]).name for row in rows) == [
        "a_long_day.wav", "take0.wav", "take1.wav", "take2.wav",
    ]  # fmt: skip
    assert {row["status"] for row in rows} == {"segmented"}
    clips = jsonl(crowdscribe(own_env, "clips", "--format", "jsonl"))
    assert len(clips) == sum(row["clips"] for row in rows)
    assert all(Path(clip["audio_path"]).is_file() for clip in clips)
    assert not list((tmp_path / "home" / "clips").glob("*.tmp"))


def test_held_recording_is_released_by_a_coordinator(env: dict[str, str], tmp_path: Path) -> None:
    take = espeak_wav(tmp_path / "loud.wav", "The drummer played far too loud for the microphone.")
    subprocess.run(["sox", str(take), str(tmp_path / "clipped.wav"), "gain", "24"], check=True)
    own_env = {**env, "CROWDSCRIBE_HOME": str(tmp_path / "home")}
    clipped = str(tmp_path / "clipped.wav")
    collected = crowdscribe(
        own_env, "collect", clipped, "--language", "en", "--speaker-group", "adult"
    )
    assert collected.returncode == 0, collected.stderr
    assert "1 held" in collected.stdout
    [row] = jsonl(crowdscribe(own_env, "recordings", "--format", "jsonl"))
    assert row["status"] == "held" and row["reason"].startswith("heavy clipping")
    held = jsonl(crowdscribe(own_env, "clips", "--format", "jsonl", "--status", "held"))
    assert len(held) == row["clips"] >= 1

    released = crowdscribe(own_env, "recordings", "release", clipped)

    assert released.returncode == 0, released.stderr
    assert f"released {clipped}: {row['clips']} clip(s)" in released.stdout
    collected_clips = jsonl(
        crowdscribe(own_env, "clips", "--format", "jsonl", "--status", "collected")
    )
    assert len(collected_clips) == row["clips"]
    again = crowdscribe(own_env, "recordings", "release", clipped)
    assert again.returncode == 2 and "not held" in again.stderr


def _stored(database: Path) -> int:
    if not database.exists():
        return 0
    with sqlite3.connect(database, timeout=5) as connection:
        try:
            return connection.execute("SELECT count(*) FROM recordings").fetchone()[0]
        except sqlite3.OperationalError:  # the schema is still being created
            return 0


def test_a_child_voice_labelled_adult_is_flagged_and_relabelling_reprices(
    env: dict[str, str], tmp_path: Path
) -> None:
    voice = tmp_path / "maya.wav"
    text = "Maya counted seven ducks on the pond and gave them some bread."
    subprocess.run(["espeak-ng", "-v", "en-us+f4", "-p", "99", "-w", str(voice), text], check=True)
    own_env = {**env, "CROWDSCRIBE_HOME": str(tmp_path / "home")}

    result = crowdscribe(
        own_env, "collect", str(voice), "--language", "en", "--speaker-group", "adult"
    )

    assert result.returncode == 0, result.stderr
    said = " ".join(result.stdout.split())  # the console wraps long lines where paths end
    assert "sounds like a child" in said and "recordings relabel" in said
    [row] = jsonl(crowdscribe(own_env, "recordings", "--format", "jsonl"))
    assert row["median_f0_hz"] > 275
    dry = crowdscribe(own_env, "dispatch", "--dry-run", "--json")
    [adult_plan] = json.loads(dry.stdout)["projects"]
    relabel = crowdscribe(
        own_env, "recordings", "relabel", str(voice), "--speaker-group", "child",
        "--reason", "child voice",
    )  # fmt: skip
    assert relabel.returncode == 0, relabel.stderr
    [child_plan] = json.loads(crowdscribe(own_env, "dispatch", "--dry-run", "--json").stdout)[
        "projects"
    ]
    # English children's audio pays 3.00 a minute against 2.00 for adults.
    assert float(child_plan["projected_cost"]) > float(adult_plan["projected_cost"]) * 1.4
    assert jsonl(crowdscribe(own_env, "clips", "--format", "jsonl", "--status", "published")) == []
