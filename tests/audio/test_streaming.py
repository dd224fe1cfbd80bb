"""Streaming segmentation gives the clips the whole-signal code gave, in bounded memory.

Expected spans were recorded from the code before it streamed (tests/audio/corpus.py) and
must match exactly: the streaming path makes the same frames and the same arithmetic.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from audio.pipeline import process_recording
from audio.segment import SegmentConfig
from tests.audio.corpus import EXPECTED, MAX_CLIP_S, ROOT, corpus_files, corpus_signals
from tests.audio.speech import RATE_HZ

CONFIG = SegmentConfig(max_clip_s=MAX_CLIP_S)


@pytest.fixture(scope="module")
def expected() -> dict:
    """The recorded spans: {"files": {path: {status, spans}}, "signals": {name: spans}}."""
    return json.loads(EXPECTED.read_text())


def _spans(outcome) -> list[list[float]]:
    return [[clip.span.start_s, clip.span.end_s] for clip in outcome.clips]


def test_committed_files_and_samples_give_the_same_clips(expected: dict, tmp_path: Path) -> None:
    files = corpus_files()
    assert len(files) == len(expected["files"])
    for path in files:
        outcome = process_recording(path, tmp_path / "clips", CONFIG)
        want = expected["files"][str(path.relative_to(ROOT))]
        assert (outcome.status, _spans(outcome)) == (want["status"], want["spans"]), path


def test_robustness_signals_streamed_from_files_give_the_same_clips(
    expected: dict, tmp_path: Path
) -> None:
    # A 16 kHz float WAV decodes to exactly the samples the tests segment in memory.
    names = []
    for name, samples in corpus_signals():
        path = tmp_path / f"{name}.wav"
        sf.write(path, samples, RATE_HZ, subtype="FLOAT")
        outcome = process_recording(path, tmp_path / "clips", CONFIG)
        assert _spans(outcome) == expected["signals"][name], name
        names.append(name)
    assert names == list(expected["signals"])


_PEAK_RSS = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from audio.pipeline import process_recording
    from audio.segment import SegmentConfig
    outcome = process_recording(Path(sys.argv[1]), Path(sys.argv[2]), SegmentConfig())
    assert outcome.status == "segmented", outcome.reason
    # VmHWM belongs to this process image; ru_maxrss would carry the forking parent's peak.
    status = Path("/proc/self/status").read_text()
    print(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
    """
)


def _peak_rss_kib(path: Path, clips_dir: Path) -> int:
    """Peak resident memory of a fresh process collecting ``path``."""
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, str(path), str(clips_dir)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return int(done.stdout.split()[-1])


def _talk_file(path: Path, minutes: float, sentences: list[np.ndarray]) -> None:
    """``minutes`` of the sentences with pauses, as a 44.1 kHz stereo WAV written in pieces."""
    rng = np.random.default_rng(5)
    with sf.SoundFile(path, "w", 44100, 2, "PCM_16") as out:
        written = 0.0
        while written < minutes * 60:
            piece = sentences[int(rng.integers(len(sentences)))]
            pause = np.zeros(int(rng.uniform(0.3, 1.2) * RATE_HZ), dtype=np.float32)
            block = soxr.resample(np.concatenate([piece, pause]), RATE_HZ, 44100)
            out.write(np.stack([block, block], axis=1) * 0.5)
            written += len(block) / 44100


def test_memory_does_not_grow_with_the_recording(
    sentences: list[np.ndarray], tmp_path: Path
) -> None:
    short, long = tmp_path / "short.wav", tmp_path / "long.wav"
    _talk_file(short, 2, sentences)
    _talk_file(long, 20, sentences)
    short_kib = _peak_rss_kib(short, tmp_path / "clips-short")
    long_kib = _peak_rss_kib(long, tmp_path / "clips-long")
    # Holding 18 more minutes of 16 kHz float samples would take 66 MiB; allow 12.
    assert long_kib - short_kib < 12 * 1024, (short_kib, long_kib)
    print(f"peak RSS: 2 min {short_kib >> 10} MiB, 20 min {long_kib >> 10} MiB")


def test_the_collect_chain_loads_no_database_layer_nor_fsspec(tmp_path: Path) -> None:
    # SQLAlchemy and the models are a third of the chain's peak memory (20 of 62 MiB): audio
    # names a recording's state through crowdscribe.storage.states alone. fsspec (8 MiB) is
    # only for clips stored at a URL.
    probe = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from audio.pipeline import process_recording
        from audio.segment import SegmentConfig
        outcome = process_recording(
            Path("tests/data/audio/speech_en.flac"), Path({str(tmp_path)!r}), SegmentConfig()
        )
        assert outcome.clips
        print(sorted({{m.split('.')[0] for m in sys.modules}}))
        """
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout

    assert "'audio'" in loaded
    assert "'sqlalchemy'" not in loaded and "'prefect'" not in loaded
    assert "'fsspec'" not in loaded
    assert list(tmp_path.rglob("*.flac"))
