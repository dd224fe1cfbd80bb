"""Segmentation and collect-chain speed and memory against the naive py-webrtcvad example.

    .venv/bin/python bench/segment.py [--minutes 30] [--runs 3]
    .venv/bin/python bench/segment.py --memory [--hours 3]

Builds (once, cached under /tmp/crowdscribe-bench) a long recording of espeak-ng
utterances with pauses, background noise, a hum stretch and a music bed, as a 44.1 kHz
stereo WAV (to exercise decoding and resampling), plus a 16 kHz mono copy for the naive
collector, which cannot read anything else: it gets that conversion for free.
Prints real-time factors (audio seconds per wall second, median of --runs) and where
the time goes.

``--memory`` builds, with sox in a temporary folder, a recording of --hours at 48 kHz
stereo and four 30-minute 16 kHz mono WAVs (the only kind the example reads), then runs
each collector in a fresh process per run and prints its peak resident memory (VmHWM),
wall time and CPU time: ours on the long file, ours and the example on the four files.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from webrtcvad_example import naive_collector  # noqa: E402

from audio.clips import write_clips  # noqa: E402
from audio.decode import load_audio  # noqa: E402
from audio.frames import to_pcm16, voiced_frames  # noqa: E402
from audio.pipeline import file_digest, process_recording  # noqa: E402
from audio.quality import assess_quality  # noqa: E402
from audio.segment import SegmentConfig, analyse_speech  # noqa: E402
from crowdscribe.clip_store import ClipStore  # noqa: E402
from crowdscribe.storage.db import open_database  # noqa: E402
from transcribe.collection import CollectRequest, save_outcome  # noqa: E402

CACHE = Path("/tmp/crowdscribe-bench")
RATE_HZ = 16000
SOURCE_RATE_HZ = 44100
SENTENCES = [
    "My dog likes to run in the park.",
    "We had pancakes for breakfast this morning, with honey and strawberries.",
    "The red bus stops outside the school every day at eight.",
    "Can you help me find my other shoe?",
    "Yesterday my sister and I built a very tall tower out of blocks, and it fell down.",
    "The teacher read us a story about a dragon who was afraid of the dark.",
    "After lunch we are going to the swimming pool with grandma.",
    "It was raining so we stayed inside and played games all afternoon.",
    "When I grow up I want to be a pilot and fly all around the world.",
    "On Saturday we visited the museum and saw the bones of a dinosaur.",
    "Do you want to play football after school tomorrow?",
    "Thank you very much.",
]
CHINESE = [("yue", "今日天氣好好，我哋去公園玩啦。"), ("cmn", "今天天气很好，我们去公园玩吧。")]


# -- the recording -------------------------------------------------------------------------


def espeak(text: str, voice: str = "en-us", pitch: int = 80, speed: int = 140) -> np.ndarray:
    """espeak-ng speech at 16 kHz."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    samples, rate = sf.read(io.BytesIO(wav), dtype="float32")
    return soxr.resample(samples, rate, RATE_HZ).astype(np.float32)


def build_recording(minutes: float) -> tuple[Path, Path]:
    """The cached long recording (44.1 kHz stereo) and its 16 kHz mono copy."""
    CACHE.mkdir(parents=True, exist_ok=True)
    source = CACHE / f"talk_{minutes:g}min_44k_stereo.wav"
    mono = CACHE / f"talk_{minutes:g}min_16k_mono.wav"
    if source.exists() and mono.exists():
        return source, mono
    rng = np.random.default_rng(1)
    pool = [espeak(text, speed=int(s)) for text in SENTENCES for s in (130, 160)]
    pool += [espeak(text, voice=voice) for voice, text in CHINESE]
    total = int(minutes * 60 * RATE_HZ)
    signal = np.zeros(total, dtype=np.float32)
    position = RATE_HZ
    while position < total - 20 * RATE_HZ:
        if rng.random() < 0.03:  # now and then a stretch of hum or a music bed, no speech
            position += _add_non_speech(signal, position, rng)
            continue
        piece = pool[rng.integers(len(pool))]
        signal[position : position + len(piece)] += piece
        position += len(piece) + int(rng.uniform(0.15, 1.5) * RATE_HZ)
    signal += rng.standard_normal(total).astype(np.float32) * np.float32(10 ** (-55 / 20))
    sf.write(mono, signal, RATE_HZ, subtype="PCM_16")
    upsampled = soxr.resample(signal, RATE_HZ, SOURCE_RATE_HZ)
    sf.write(source, np.stack([upsampled, 0.8 * upsampled], axis=1), SOURCE_RATE_HZ, "PCM_16")
    return source, mono


def _add_non_speech(signal: np.ndarray, position: int, rng: np.random.Generator) -> int:
    length = int(rng.uniform(4, 10) * RATE_HZ)
    t = np.arange(length) / RATE_HZ
    if rng.random() < 0.5:
        sound = sum(0.02 / k * np.sin(2 * np.pi * 50 * k * t) for k in range(1, 6))
    else:
        note = 220 * 2 ** (np.floor(t / 0.4) % 5 / 12)
        sound = 0.05 * np.sin(2 * np.pi * np.cumsum(note) / RATE_HZ) * np.exp(-2 * (t % 0.4))
    signal[position : position + length] += np.asarray(sound, dtype=np.float32)[
        : len(signal) - position
    ]
    return length + RATE_HZ


# -- (b) our chain, stage by stage and end to end ------------------------------------------


def staged_chain(source: Path, work: Path, config: SegmentConfig) -> dict[str, tuple[float, float]]:
    """The collect chain with each stage timed: name -> (wall s, CPU s of this process)."""
    timings: dict[str, tuple[float, float]] = {}

    def stage(name: str, action: Callable[[], object]):
        wall, cpu = time.perf_counter(), time.process_time()
        result = action()
        timings[name] = (time.perf_counter() - wall, time.process_time() - cpu)
        return result

    digest = stage("digest", lambda: file_digest(source))
    decoded = stage("decode+resample", lambda: load_audio(source))
    analysis = stage("vad+segment", lambda: analyse_speech(decoded.samples, RATE_HZ, config))
    stage("quality", lambda: assess_quality(decoded.samples, RATE_HZ, analysis))
    store = ClipStore(work / "home" / "clips")
    stage("write clips", lambda: write_clips(decoded.samples, analysis.spans, digest, store))
    return timings


def full_chain(source: Path, work: Path, config: SegmentConfig) -> tuple[float, float, int]:
    """process_recording then save_outcome into a fresh SQLite database: (process, store, clips)."""
    home = work / "home"
    database = open_database(f"sqlite:///{home / 'bench.sqlite'}")
    start = time.perf_counter()
    outcome = process_recording(source, home / "clips", config)
    processed = time.perf_counter() - start
    request = CollectRequest("en", "child", config.max_clip_s, project="bench")
    with database.session() as session:
        save_outcome(session, str(source), source, request, outcome, home)
    stored = time.perf_counter() - start - processed
    database.dispose()
    return processed, stored, len(outcome.clips)


def _fresh(work_root: Path) -> Path:
    work = Path(tempfile.mkdtemp(dir=work_root))
    (work / "home").mkdir()
    return work


def _median(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


# -- memory: each collector in a fresh process ---------------------------------------------


def _sox_recording(folder: Path, name: str, minutes: float, rate: int, channels: int) -> Path:
    """``minutes`` of the bench talk at ``rate`` and ``channels``, chained by sox from
    10-minute 16 kHz pieces (never held in memory whole)."""
    _, piece = build_recording(10)
    parts = [str(piece)] * int(np.ceil(minutes / 10))
    out = folder / name
    subprocess.run(
        [
            "sox",
            *parts,
            "-r",
            str(rate),
            "-c",
            str(channels),
            "-b",
            "16",
            str(out),
            "trim",
            "0",
            str(minutes * 60),
        ],
        check=True,
    )
    return out


OURS_CHILD = """
import resource, sys
from pathlib import Path
from audio.pipeline import process_recording
from audio.segment import SegmentConfig
from webrtcvad_example import peak_rss_kib
for path in sys.argv[2:]:
    process_recording(Path(path), Path(sys.argv[1]), SegmentConfig())
usage = resource.getrusage(resource.RUSAGE_SELF)
print(peak_rss_kib(), usage.ru_utime + usage.ru_stime)
"""


def _peak_in_child(which: str, paths: list[Path], out: Path) -> tuple[float, float, float]:
    """(peak RSS MiB, wall s, CPU s) of a fresh process running collector ``which``, writing
    into the new folder ``out``: ours imports only the audio package, the example only
    webrtcvad. The clips are removed after every run is measured, not by the child: deleting
    them is no part of collecting, and on a file system without a journal (this machine's
    ext4) each new file after a mass deletion first skips the recently deleted inodes."""
    out.mkdir()
    here = Path(__file__).resolve().parent
    command = (
        [sys.executable, "-c", OURS_CHILD]
        if which == "ours"
        else [sys.executable, str(here / "webrtcvad_example.py")]
    )
    env = {**os.environ, "PYTHONPATH": f"{here.parent}:{here}"}
    start = time.perf_counter()
    done = subprocess.run(
        [*command, str(out), *map(str, paths)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    wall_s = time.perf_counter() - start
    peak_kib, cpu_s = done.stdout.split()[-2:]
    return int(peak_kib) / 1024, wall_s, float(cpu_s)


def memory_report(hours: float, runs: int) -> None:
    """Peak memory, wall and CPU time of ours on one long file and of both on four files."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
        folder = Path(scratch)
        quarter = [
            _sox_recording(folder, f"part{n}_16k_mono.wav", 30, RATE_HZ, 1) for n in range(4)
        ]
        cases = [
            ("ours, 4 x 30 min 16 kHz mono WAV", "ours", quarter, 4 * 1800),
            ("py-webrtcvad example, same 4 files", "naive", quarter, 4 * 1800),
        ]
        if hours:
            long_file = _sox_recording(folder, "long_48k_stereo.wav", hours * 60, 48000, 2)
            size_mib = long_file.stat().st_size >> 20
            label = f"ours, {hours:g} h 48 kHz stereo WAV ({size_mib} MiB)"
            cases.append((label, "ours", [long_file], hours * 3600))
        # The recordings sox just wrote (2 GB for 3 hours) are still being written out: the
        # 3-hour collect, timed in one process, took 15.3 s of CPU during that and 10.2 s after.
        os.sync()
        print(
            f"{'collector, files':52s} {'peak MiB':>8s} {'wall s':>7s} {'CPU s':>7s} "
            f"{'x real time/core':>16s}",
            flush=True,
        )
        peaks = {}
        for case, (label, which, paths, audio_s) in enumerate(cases):
            figures = [
                _peak_in_child(which, paths, folder / f"out-{case}-{run}") for run in range(runs)
            ]
            peak = max(f[0] for f in figures)
            wall_s = statistics.median(f[1] for f in figures)
            cpu_s = statistics.median(f[2] for f in figures)
            peaks[label] = peak
            print(
                f"{label:52s} {peak:8.0f} {wall_s:7.1f} {cpu_s:7.1f} {audio_s / cpu_s:16.0f}",
                flush=True,
            )
        ours, naive = peaks[cases[0][0]], peaks[cases[1][0]]
        print(f"ours on the four files: {ours / naive:.0%} of the example's peak")


def main() -> None:
    """Build or reuse the recording, run (a), (b), (c) and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory", action="store_true", help="peak memory, fresh processes")
    parser.add_argument("--hours", type=float, default=3.0, help="long file for --memory (0: none)")
    args = parser.parse_args()
    if args.memory:
        memory_report(args.hours, args.runs)
        return
    source, mono = build_recording(args.minutes)
    config = SegmentConfig()
    duration_s = sf.info(str(mono)).duration
    work_root = Path(tempfile.mkdtemp(prefix="bench-", dir=CACHE))
    size_mb = source.stat().st_size >> 20
    print(f"recording: {duration_s / 60:.1f} min; source {source.name} ({size_mb} MB)")
    try:
        _report(args.runs, source, mono, duration_s, config, work_root)
    finally:
        shutil.rmtree(work_root)


def _report(runs: int, source: Path, mono: Path, duration_s: float, config, work_root) -> None:
    def naive() -> float:
        out = _fresh(work_root)
        start = time.perf_counter()
        naive.chunks = naive_collector(mono, out)  # type: ignore[attr-defined]
        return time.perf_counter() - start

    naive_s = _median(runs, naive)

    def convert() -> float:
        out = _fresh(work_root) / "mono.wav"
        start = time.perf_counter()
        subprocess.run(
            ["sox", str(source), "-r", "16000", "-c", "1", "-b", "16", str(out)], check=True
        )
        return time.perf_counter() - start

    convert_s = _median(runs, convert) if shutil.which("sox") else None

    chain = [full_chain(source, _fresh(work_root), config) for _ in range(runs)]
    chain_s = statistics.median(p + s for p, s, _ in chain)
    stages = [staged_chain(source, _fresh(work_root), config) for _ in range(runs)]
    split = {
        name: tuple(statistics.median(t[name][k] for t in stages) for k in (0, 1))
        for name in stages[0]
    }

    samples = load_audio(source).samples
    pcm = to_pcm16(samples)
    affinity = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(affinity)})  # segmentation alone, on one core
    try:
        segment_s = _median(runs, lambda: _timed(lambda: analyse_speech(samples, RATE_HZ, config)))
        vad_s = _median(runs, lambda: _timed(lambda: voiced_frames(pcm, RATE_HZ, 2)))
    finally:
        os.sched_setaffinity(0, affinity)

    print(
        f"(a) naive example collector (16 kHz mono WAV given): {duration_s / naive_s:7.0f}x "
        f"real time  {naive_s:6.2f} s  {naive.chunks} chunks"
    )  # type: ignore[attr-defined]
    if convert_s is not None:
        both_s = naive_s + convert_s
        print(
            f"(a') naive + the sox conversion it needs ({convert_s:.2f} s): "
            f"{duration_s / both_s:7.0f}x real time  {both_s:6.2f} s"
        )
    print(
        f"(b) our collect chain (44.1 kHz stereo WAV -> clips + SQLite): "
        f"{duration_s / chain_s:7.0f}x real time  {chain_s:6.2f} s  {chain[0][2]} clips"
    )
    print(
        f"(c) segmentation alone, one core: {duration_s / segment_s:7.0f}x real time  "
        f"{segment_s:6.2f} s (webrtcvad calls {vad_s:.2f} s of it)"
    )
    print("time split of (b), stages run one after another (process_recording hashes, decodes")
    print("and runs the VAD at once on three threads, and writes clips on two):")
    print(f"    {'stage':18s} {'wall s':>7s} {'CPU s':>7s}")
    for name, (wall_s, cpu_s) in split.items():
        print(f"    {name:18s} {wall_s:7.2f} {cpu_s:7.2f}")
    store_s = statistics.median(s for _, s, _ in chain)
    print(f"    {'store (SQLite)':18s} {store_s:7.2f}")


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
