"""Export layouts, each read back by its own toolkit (datasets, lhotse) or checked against its
rules (Kaldi's validate_data_dir.sh, NeMo's manifest), and splits that keep recordings whole."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import soundfile
from sqlalchemy.orm import Session

from crowdscribe.errors import InvalidInput
from crowdscribe.settings import Settings
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Clip, Recording
from review.dataset_split import SplitItem, assign_splits, parse_ratios
from review.export import export_dataset
from tests.builders import add_person, add_submitted

RATE_HZ = 16000
RECORDINGS = 12
TRADITIONAL = "我們說話 [laugh]"
SIMPLIFIED = "我们说话 [laugh]"


@pytest.fixture
def home(settings: Settings) -> Path:
    return settings.home_dir


def campaign(session: Session, home: Path) -> None:
    """12 recordings of 1-4 clips (lengths 1-2.5 s), each with a consent reference; every clip
    agreed with traditional Chinese text, transcribed by "transcriber-mei"."""
    mei = add_person(session, "transcriber-mei", languages=("cmn",)).person
    (home / "clips").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    for number in range(RECORDINGS):
        recording = Recording(
            source=f"batch-{number}.wav",
            source_path=f"/data/batch-{number}.wav",
            status="segmented",
            language="cmn",
            speaker_group="child" if number % 3 == 0 else "adult",
            project="p1",
            consent_ref=f"consent-{number:03d}",
        )
        session.add(recording)
        session.flush()
        for index in range(1 + number % 4):
            clip_id = f"c{number:02d}x{index}"
            duration_s = 1.0 + 0.5 * (index % 4)
            samples = (0.1 * rng.standard_normal(int(duration_s * RATE_HZ))).astype(np.float32)
            soundfile.write(home / "clips" / f"{clip_id}.flac", samples, RATE_HZ, format="FLAC")
            session.add(
                Clip(
                    id=clip_id,
                    recording_id=recording.id,
                    start_s=index * 3.0,
                    end_s=index * 3.0 + duration_s,
                    duration_s=duration_s,
                    audio_path=f"clips/{clip_id}.flac",
                    language="cmn",
                    speaker_group=recording.speaker_group,
                    project="p1",
                    status="agreed",
                    final_text=TRADITIONAL,
                )
            )
            session.flush()
            add_submitted(session, clip_id, mei.id, TRADITIONAL)


def export(database: Database, home: Path, out: Path, fmt: str, **options):
    with database.session() as session:
        return export_dataset(session, home, out, fmt=fmt, **options)


def all_text(folder: Path) -> str:
    texts = []
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix not in (".flac", ".wav"):
            if path.suffix == ".gz":
                texts.append(gzip.decompress(path.read_bytes()).decode("utf-8"))
            else:
                texts.append(path.read_text(encoding="utf-8"))
    return "\n".join(texts)


def test_split_keeps_each_group_whole_and_near_the_ratios() -> None:
    rng = np.random.default_rng(3)
    items = [
        SplitItem(f"clip-{group}-{n}", f"rec-{group}", float(rng.uniform(1, 15)))
        for group in range(300)
        for n in range(int(rng.integers(1, 20)))
    ]
    split_of = assign_splits(items, (0.8, 0.1, 0.1))
    groups: dict[str, set[str]] = defaultdict(set)
    seconds: dict[str, float] = defaultdict(float)
    for item in items:
        groups[item.group].add(split_of[item.item_id])
        seconds[split_of[item.item_id]] += item.duration_s
    assert all(len(splits) == 1 for splits in groups.values())
    total_s = sum(seconds.values())
    for name, share in (("train", 0.8), ("dev", 0.1), ("test", 0.1)):
        assert seconds[name] / total_s == pytest.approx(share, abs=0.01)
    # Deterministic: the same items in another order split the same way.
    assert assign_splits(list(reversed(items)), (0.8, 0.1, 0.1)) == split_of


def test_split_ratios_are_checked() -> None:
    assert parse_ratios("0.8,0.1,0.1") == (0.8, 0.1, 0.1)
    for bad in ("0.8,0.2", "0.5,0.5,0.5", "a,b,c", "1.2,-0.1,-0.1"):
        with pytest.raises(InvalidInput):
            parse_ratios(bad)


def test_jsonl_export_carries_split_consent_and_no_transcriber(
    database: Database, home: Path, tmp_path: Path
) -> None:
    with database.session() as session:
        campaign(session, home)
    summary = export(database, home, tmp_path / "out", "jsonl", ratios=(0.6, 0.2, 0.2))
    records = [
        json.loads(line) for line in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()
    ]
    assert summary.clips == len(records) == sum(1 + n % 4 for n in range(RECORDINGS))
    by_recording: dict[int, set[str]] = defaultdict(set)
    for record in records:
        by_recording[record["recording_id"]].add(record["split"])
        assert record["consent_ref"] == f"consent-{int(record['clip_id'][1:3]):03d}"
        assert record["speaker_group"] in ("adult", "child")
    assert all(len(splits) == 1 for splits in by_recording.values())
    assert {record["split"] for record in records} == {"train", "dev", "test"}
    assert "transcriber-mei" not in all_text(tmp_path / "out")
    assert records[0]["text"] == TRADITIONAL  # as typed when no script is set


def test_chinese_text_is_written_in_the_projects_script(
    sqlite_database: Database, home: Path, tmp_path: Path
) -> None:
    with sqlite_database.session() as session:
        campaign(session, home)
    export(sqlite_database, home, tmp_path / "s", "nemo", script_for={"p1": "simplified"}.get)
    lines = (tmp_path / "s" / "train_manifest.json").read_text(encoding="utf-8").splitlines()
    assert {json.loads(line)["text"] for line in lines} == {SIMPLIFIED}
    export(sqlite_database, home, tmp_path / "t", "jsonl", script_for=lambda _p: "traditional")
    assert SIMPLIFIED not in (tmp_path / "t" / "manifest.jsonl").read_text(encoding="utf-8")


def test_nemo_manifests_point_at_audio_of_the_stated_duration(
    sqlite_database: Database, home: Path, tmp_path: Path
) -> None:
    with sqlite_database.session() as session:
        campaign(session, home)
    out = tmp_path / "nemo"
    export(sqlite_database, home, out, "nemo")
    seen = set()
    for split in ("train", "dev", "test"):
        for line in (out / f"{split}_manifest.json").read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            assert {"audio_filepath", "duration", "text"} <= set(entry)
            info = soundfile.info(out / entry["audio_filepath"])
            assert info.frames / info.samplerate == pytest.approx(entry["duration"], abs=0.01)
            seen.add(entry["clip_id"])
    assert len(seen) == sum(1 + n % 4 for n in range(RECORDINGS))


def check_kaldi_data_dir(data_dir: Path) -> None:
    """validate_data_dir.sh --no-feats's checks: files sorted (LC_ALL=C) and unique, the same
    utterances in wav.scp, text and utt2spk, spk2utt exactly what utt2spk_to_spk2utt.pl makes,
    utterance ids prefixed by their speaker, and every wav.scp file present."""

    def keyed(name: str) -> list[tuple[str, str]]:
        rows = []
        for line in (data_dir / name).read_text(encoding="utf-8").splitlines():
            key, _, rest = line.partition(" ")
            assert key and rest.strip(), f"{name}: empty field in {line!r}"
            rows.append((key, rest))
        keys = [key.encode("utf-8") for key, _ in rows]
        assert keys == sorted(set(keys)), f"{name} is not sorted and unique"
        return rows

    wav, text, utt2spk, spk2utt = (keyed(n) for n in ("wav.scp", "text", "utt2spk", "spk2utt"))
    assert [k for k, _ in wav] == [k for k, _ in text] == [k for k, _ in utt2spk]
    expected: dict[str, list[str]] = {}
    for utterance, speaker in utt2spk:
        assert utterance.startswith(speaker + "-"), f"{utterance} is not prefixed by {speaker}"
        expected.setdefault(speaker, []).append(utterance)
    assert spk2utt == [(speaker, " ".join(utts)) for speaker, utts in expected.items()]
    assert not (data_dir / "segments").exists()
    for _key, path in wav:
        assert soundfile.info(path).subtype == "PCM_16"


def test_kaldi_data_dirs_pass_validate_data_dir_rules(
    database: Database, home: Path, tmp_path: Path
) -> None:
    with database.session() as session:
        campaign(session, home)
    out = tmp_path / "kaldi"
    export(database, home, out, "kaldi")
    utterances_by_split = {}
    for split in ("train", "dev", "test"):
        check_kaldi_data_dir(out / "data" / split)
        utt2spk = (out / "data" / split / "utt2spk").read_text().splitlines()
        utterances_by_split[split] = {line.split()[1] for line in utt2spk}
    train, dev, test = utterances_by_split.values()
    assert not (train & dev or train & test or dev & test)  # no speaker in two splits


def test_hf_audiofolder_loads_with_datasets(
    sqlite_database: Database, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datasets  # here, not at the top: with pyarrow and pandas, seconds for every test worker

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    with sqlite_database.session() as session:
        campaign(session, home)
    out = tmp_path / "hf"
    summary = export(sqlite_database, home, out, "hf")
    loaded = datasets.load_dataset("audiofolder", data_dir=str(out))
    assert sorted(loaded) == ["test", "train", "validation"]
    assert {name: loaded[name].num_rows for name in ("train", "validation", "test")} == {
        "train": summary.splits["train"]["clips"],
        "validation": summary.splits["dev"]["clips"],
        "test": summary.splits["test"]["clips"],
    }
    row = loaded["train"][0]
    assert row["text"] == TRADITIONAL and row["consent_ref"].startswith("consent-")
    assert row["audio"]["sampling_rate"] == RATE_HZ
    assert len(row["audio"]["array"]) == pytest.approx(row["duration_s"] * RATE_HZ, abs=2)
    assert "transcriber-mei" not in all_text(out)


def test_lhotse_manifests_load_with_lhotse(
    sqlite_database: Database, home: Path, tmp_path: Path
) -> None:
    import lhotse  # here, not at the top: it imports torch, seconds for every test worker

    with sqlite_database.session() as session:
        campaign(session, home)
    out = tmp_path / "lhotse"
    summary = export(sqlite_database, home, out, "lhotse")
    recordings = lhotse.load_manifest(out / "recordings_train.jsonl.gz")
    supervisions = lhotse.load_manifest(out / "supervisions_train.jsonl.gz")
    assert isinstance(recordings, lhotse.RecordingSet)
    assert isinstance(supervisions, lhotse.SupervisionSet)
    assert len(recordings) == len(supervisions) == summary.splits["train"]["clips"]
    first = next(iter(supervisions))
    assert first.text == TRADITIONAL and first.custom["consent_ref"].startswith("consent-")
    audio = recordings[first.recording_id].load_audio()
    assert audio.shape[1] == pytest.approx(first.duration * RATE_HZ, abs=2)
    cuts = lhotse.CutSet.from_manifests(recordings=recordings, supervisions=supervisions)
    assert len(cuts) == len(recordings)
