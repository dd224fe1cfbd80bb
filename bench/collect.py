"""How long collecting takes: Prefect start-up, and thread vs process pools vs a Dask cluster
already running (two worker processes, one thread each: ``collect --dask``) on synthetic speech.

Run: PREFECT_SERVER_ANALYTICS_ENABLED=false .venv/bin/python bench/collect.py [recordings] [repeats]
Prints medians; each repeat collects into a fresh data home so nothing is skipped.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from distributed import LocalCluster
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner
from prefect.testing.utilities import prefect_test_harness

from flows.collect import collect

TEXT = (
    "Once upon a time a small fox lived at the edge of a quiet wood. "
    "Every morning she walked to the river to drink, and every evening she came home. "
    "One day the river was gone, and the fox had to find out where it went. "
)


def make_batch(folder: Path, count: int) -> float:
    """``count`` speech recordings of about 40 s each; returns their total length in seconds."""
    total_s = 0.0
    for n in range(count):
        path = folder / f"story{n}.wav"
        subprocess.run(["espeak-ng", "-s", str(150 + 5 * n), "-w", str(path), TEXT * 3], check=True)
        total_s += path.stat().st_size / 2 / 22050
    return total_s


def time_collect(folder: Path, runner, dask_address: str | None = None) -> float:
    with tempfile.TemporaryDirectory() as home:
        start = time.perf_counter()
        collect.with_options(task_runner=runner)(
            paths=[str(folder)],
            language="en",
            speaker_group="adult",
            home=home,
            dask_address=dask_address,
        )
        return time.perf_counter() - start


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        audio_s = make_batch(folder, count)
        print(f"{count} recordings, {audio_s:.0f} s of audio, {cores} cores")
        start = time.perf_counter()
        with prefect_test_harness(server_startup_timeout=60):
            print(f"Prefect test server start: {time.perf_counter() - start:.2f} s")
            runners = {
                "threads x1": lambda: ThreadPoolTaskRunner(max_workers=1),
                f"threads x{cores}": lambda: ThreadPoolTaskRunner(max_workers=cores),
                f"processes x{cores}": lambda: ProcessPoolTaskRunner(max_workers=cores),
            }
            for name, make_runner in runners.items():
                times = [time_collect(folder, make_runner()) for _ in range(repeats)]
                report(name, times, audio_s)
            with LocalCluster(
                processes=True, n_workers=cores, threads_per_worker=1, dashboard_address=None
            ) as cluster:
                # The first run pays for the workers' imports; a cluster is kept up between runs.
                first = time_collect(folder, ThreadPoolTaskRunner(), cluster.scheduler_address)
                print(f"{'dask, first':>14}: {first:.2f} s")
                times = [
                    time_collect(folder, ThreadPoolTaskRunner(), cluster.scheduler_address)
                    for _ in range(repeats)
                ]
                report(f"dask x{cores}", times, audio_s)


def report(name: str, times: list[float], audio_s: float) -> None:
    median = statistics.median(times)
    print(f"{name:>14}: median {median:.2f} s  ({audio_s / median:.0f}x real time)")


if __name__ == "__main__":
    main()
