"""The collect chain's CPU per core, this tree against an earlier commit, in the same minutes.

    .venv/bin/python bench/chain_ab.py [REV] [--runs 5] [--minutes 30]

REV defaults to the last commit before streaming segmentation (whole 16 kHz signal in
memory), so the figure answers "did streaming cost speed?". Each run is a fresh process per
tree, alternating old and new, on the cached 44.1 kHz stereo recording of ``bench/segment.py``;
each child times ``process_recording`` alone (wall, and CPU of all its threads). Prints the
medians as real-time factors (audio seconds per CPU second is "per core") and whether the
two trees cut the same spans.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.segment import build_recording  # noqa: E402

BEFORE_STREAMING = "4df5afb^"

# Runs inside a child whose sys.path starts with the tree under test.
_CHILD = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from audio.pipeline import process_recording
from audio.segment import SegmentConfig
clips = Path(sys.argv[3])
before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
outcome = process_recording(Path(sys.argv[2]), clips, SegmentConfig())
wall_s, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
cpu_s = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
spans = [(c.span.start_s, c.span.end_s) for c in outcome.clips]
print(json.dumps({"wall_s": wall_s, "cpu_s": cpu_s, "spans": spans}))
"""


def run_chain(tree: Path, source: Path, clips: Path) -> dict:
    """One fresh process collecting ``source`` into the new folder ``clips`` with the code of
    ``tree``. The clips are removed once every run is done: on a file system without a journal,
    files created just after a mass deletion cost more (``bench/segment.py``)."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tree), str(source), str(clips)],
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def export_tree(rev: str, folder: Path) -> Path:
    """The files of ``rev`` (git archive), without touching this checkout."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev], check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def main() -> None:
    """Alternate old and new trees for --runs rounds and print medians and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rev", nargs="?", default=BEFORE_STREAMING)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--minutes", type=float, default=30.0)
    args = parser.parse_args()
    source, _ = build_recording(args.minutes)
    audio_s = args.minutes * 60
    folder = Path(tempfile.mkdtemp(prefix="chain-ab-"))
    try:
        trees = {args.rev: export_tree(args.rev, folder), "this tree": ROOT}
        results: dict[str, list[dict]] = {name: [] for name in trees}
        for run in range(args.runs):
            for number, (name, tree) in enumerate(trees.items()):
                clips = folder / f"clips-{number}-{run}"
                results[name].append(run_chain(tree, source, clips))
    finally:
        shutil.rmtree(folder)
    print(f"{args.minutes:g} min, 44.1 kHz stereo WAV, {args.runs} alternating fresh processes")
    cpu = {}
    for name, runs in results.items():
        cpu[name] = statistics.median(r["cpu_s"] for r in runs)
        wall_s = statistics.median(r["wall_s"] for r in runs)
        print(
            f"  {name:12s} CPU {cpu[name]:.2f} s = {audio_s / cpu[name]:5.0f}x per core;"
            f"  wall {wall_s:.2f} s = {audio_s / wall_s:5.0f}x;  {len(runs[0]['spans'])} clips"
        )
    old, new = (results[name][0]["spans"] for name in trees)
    print(f"  CPU this tree / {args.rev}: {cpu['this tree'] / cpu[args.rev]:.2f}")
    print(f"  same spans: {old == new}")


if __name__ == "__main__":
    main()
