"""Export layouts, one writer per training toolkit; each writes into a staging folder that
becomes ``final_dir`` (paths a toolkit resolves from its working folder are absolute there).

- ``jsonl``: ``manifest.jsonl`` (every record, with its split) and ``audio/``.
- ``nemo``: ``{split}_manifest.json`` lines of audio_filepath (relative to the manifest),
  duration and text, plus language, speaker group and consent reference.
- ``kaldi``: ``data/{split}/`` with wav.scp, text, utt2spk and spk2utt, sorted as ``LC_ALL=C
  sort`` sorts, utterance ids prefixed by their speaker; 16-bit WAV audio in ``audio/``.
- ``hf``: a ``datasets`` audiofolder, ``{split}/`` holding the audio and ``metadata.jsonl``.
- ``lhotse``: ``recordings_{split}.jsonl.gz`` and ``supervisions_{split}.jsonl.gz``.
Splits with no clips are left out.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import soundfile

from crowdscribe.clip_store import is_url, open_clip
from review.dataset_split import SPLIT_NAMES

if TYPE_CHECKING:
    from review.export import ExportItem

AUDIO_DIR = "audio"
MANIFEST_NAME = "manifest.jsonl"


def link_or_copy(source: str, target: Path) -> None:
    """Place the clip at ``source`` (a path or URL) at ``target``: a hard link (clip files never
    change once written, so it is as good as a copy and costs no space), else a copy across
    file systems or out of the object store."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if not is_url(source):
        try:
            os.link(source, target)
            return
        except OSError:
            pass
    with open_clip(source) as clip, target.open("wb") as placed:
        shutil.copyfileobj(clip, placed)


def _json_line(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False) + "\n"


def _by_split(items: list[ExportItem]) -> Iterable[tuple[str, list[ExportItem]]]:
    for name in SPLIT_NAMES:
        chosen = [item for item in items if item.record.split == name]
        if chosen:
            yield name, chosen


def _place_audio(staging: Path, items: list[ExportItem]) -> None:
    for item in items:
        link_or_copy(item.source, staging / item.record.audio_path)


def write_jsonl(staging: Path, _final_dir: Path, items: list[ExportItem]) -> None:
    """One manifest of every record (lhotse-style JSONL) beside ``audio/``."""
    (staging / AUDIO_DIR).mkdir()
    _place_audio(staging, items)
    with (staging / MANIFEST_NAME).open("w", encoding="utf-8") as manifest:
        manifest.writelines(_json_line(item.record.to_dict()) for item in items)


def write_nemo(staging: Path, _final_dir: Path, items: list[ExportItem]) -> None:
    """NeMo ASR manifests, one per split; NeMo resolves a relative audio_filepath against the
    manifest's folder."""
    (staging / AUDIO_DIR).mkdir()
    _place_audio(staging, items)
    for split, chosen in _by_split(items):
        with (staging / f"{split}_manifest.json").open("w", encoding="utf-8") as manifest:
            for item in chosen:
                record = item.record
                line = {
                    "audio_filepath": record.audio_path,
                    "duration": record.duration_s,
                    "text": record.text,
                    "lang": record.language,
                    "clip_id": record.clip_id,
                    "speaker_group": record.speaker_group,
                    "consent_ref": record.consent_ref,
                }
                manifest.write(_json_line(line))


def kaldi_text(text: str) -> str:
    """A final text on one line of a Kaldi ``text`` file: whitespace runs to single spaces."""
    return " ".join(text.split())


def spk2utt_lines(utt2spk: list[tuple[str, str]]) -> list[str]:
    """``spk2utt`` as Kaldi's utt2spk_to_spk2utt.pl builds it: speakers in order of first
    appearance in the (sorted) utt2spk, each with its utterances in that order."""
    speakers: dict[str, list[str]] = {}
    for utterance, speaker in utt2spk:
        speakers.setdefault(speaker, []).append(utterance)
    return [f"{speaker} {' '.join(utterances)}" for speaker, utterances in speakers.items()]


def _write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def write_kaldi(staging: Path, final_dir: Path, items: list[ExportItem]) -> None:
    """Kaldi data dirs: each clip is its own WAV file, so no ``segments``; utterance ids are
    ``<speaker>-<clip id>`` so sorting by utterance keeps each speaker's together."""
    audio_dir = staging / AUDIO_DIR
    audio_dir.mkdir()
    for split, chosen in _by_split(items):
        data_dir = staging / "data" / split
        data_dir.mkdir(parents=True)
        rows = []
        for item in chosen:
            record = item.record
            wav_name = f"{record.clip_id}.wav"
            with open_clip(item.source) as clip:
                samples, rate_hz = soundfile.read(clip, dtype="int16")
            soundfile.write(audio_dir / wav_name, samples, rate_hz, subtype="PCM_16")
            utterance = f"{record.speaker}-{record.clip_id}"
            wav_path = final_dir / AUDIO_DIR / wav_name
            rows.append((utterance, record.speaker, str(wav_path), kaldi_text(record.text)))
        # LC_ALL=C sorts by bytes: UTF-8 bytes, not Python's code points, to be exact.
        rows.sort(key=lambda row: row[0].encode("utf-8"))
        _write_lines(data_dir / "wav.scp", [f"{u} {path}" for u, _, path, _ in rows])
        _write_lines(data_dir / "text", [f"{u} {text}" for u, _, _, text in rows])
        _write_lines(data_dir / "utt2spk", [f"{u} {spk}" for u, spk, _, _ in rows])
        _write_lines(data_dir / "spk2utt", spk2utt_lines([(u, spk) for u, spk, _, _ in rows]))


def write_hf(staging: Path, _final_dir: Path, items: list[ExportItem]) -> None:
    """A Hugging Face ``audiofolder``: each split's folder holds its audio and metadata.jsonl
    (``file_name`` relative to it), loaded by ``load_dataset("audiofolder", data_dir=...)``."""
    for split, chosen in _by_split(items):
        split_dir = staging / split
        split_dir.mkdir()
        with (split_dir / "metadata.jsonl").open("w", encoding="utf-8") as metadata:
            for item in chosen:
                record = item.record
                file_name = Path(record.audio_path).name
                link_or_copy(item.source, split_dir / file_name)
                row = {"file_name": file_name, **record.to_dict()}
                del row["audio_path"], row["split"]
                metadata.write(_json_line(row))


def write_lhotse(staging: Path, final_dir: Path, items: list[ExportItem]) -> None:
    """lhotse RecordingSet and SupervisionSet manifests per split (one recording per clip file,
    one supervision covering it), read by ``lhotse.load_manifest``."""
    (staging / AUDIO_DIR).mkdir()
    _place_audio(staging, items)
    for split, chosen in _by_split(items):
        recordings, supervisions = [], []
        for item in chosen:
            record = item.record
            info = soundfile.info(str(staging / record.audio_path))  # placed above
            recordings.append(
                {
                    "id": record.clip_id,
                    "sources": [
                        {
                            "type": "file",
                            "channels": list(range(info.channels)),
                            "source": str(final_dir / record.audio_path),
                        }
                    ],
                    "sampling_rate": info.samplerate,
                    "num_samples": info.frames,
                    "duration": info.frames / info.samplerate,
                    "channel_ids": list(range(info.channels)),
                }
            )
            supervisions.append(
                {
                    "id": record.clip_id,
                    "recording_id": record.clip_id,
                    "start": 0.0,
                    "duration": info.frames / info.samplerate,
                    "channel": 0,
                    "text": record.text,
                    "language": record.language,
                    "speaker": record.speaker,
                    "custom": {
                        "speaker_group": record.speaker_group,
                        "consent_ref": record.consent_ref,
                        "project": record.project,
                    },
                }
            )
        for kind, rows in (("recordings", recordings), ("supervisions", supervisions)):
            with gzip.open(staging / f"{kind}_{split}.jsonl.gz", "wt", encoding="utf-8") as out:
                out.writelines(_json_line(row) for row in rows)


WRITERS: dict[str, Callable[[Path, Path, list[ExportItem]], None]] = {
    "jsonl": write_jsonl,
    "nemo": write_nemo,
    "kaldi": write_kaldi,
    "hf": write_hf,
    "lhotse": write_lhotse,
}
