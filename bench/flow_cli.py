"""Wall time of a flow command on an empty queue while the data home's Prefect server is up
(`crowdscribe prefect up`): the whole `crowdscribe agree` process, start to exit.

Run: .venv/bin/python bench/flow_cli.py [runs]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CROWDSCRIBE = Path(sys.executable).parent / "crowdscribe"


def main(runs: int) -> None:
    """Start a server for a fresh home, time ``agree`` ``runs`` times, print the median."""
    with tempfile.TemporaryDirectory() as base:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CROWDSCRIBE_"))
        }
        env.update(CROWDSCRIBE_HOME=f"{base}/home", PREFECT_HOME=f"{base}/prefect-profile")

        def crowdscribe(*args: str) -> None:
            subprocess.run([str(CROWDSCRIBE), *args], env=env, check=True, capture_output=True)

        started = time.perf_counter()
        crowdscribe("prefect", "up")
        print(f"prefect up: {time.perf_counter() - started:.1f} s")
        try:
            crowdscribe("agree")  # first run creates the flow and task records
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                crowdscribe("agree")
                times.append(time.perf_counter() - started)
        finally:
            crowdscribe("prefect", "down")
    print("agree on an empty queue, s: " + ", ".join(f"{t:.2f}" for t in times))
    print(f"median {statistics.median(times):.2f} s over {runs} runs (target < 2 s)")
    print(f"load average while measured: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
