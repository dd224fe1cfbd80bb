"""Wall and CPU time of a flow command on an empty queue while the data home's Prefect server is
up (`crowdscribe prefect up`): the whole `crowdscribe agree` process, start to exit, run in a
fork of the home's warm process and, interleaved with it, in its own process (a second home
with no warm process, against the same server); then where the own process's CPU goes
(Python's start, importing Prefect, importing everything agree loads, the rest).

Run: .venv/bin/python bench/flow_cli.py [runs]
"""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CROWDSCRIBE = Path(sys.executable).parent / "crowdscribe"
# What `crowdscribe agree` imports by the end of its flow run, without running anything; the
# imports are timed without the interpreter's teardown, which agree skips too.
AGREE_IMPORTS = (
    "import app.cli.commands, app.cli.review_cmds, flows.agreement, prefect.flow_engine, "
    "prefect.task_engine, fastapi.encoders, os; app.cli.commands._register_commands(); os._exit(0)"
)


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + sys) seconds of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    wall_s = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall_s, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def report(what: str, runs: list[tuple[float, float]]) -> None:
    walls, cpus = zip(*runs, strict=True)
    print(
        f"{what}: median wall {statistics.median(walls):.2f} s, CPU {statistics.median(cpus):.2f} s"
        f"  (wall {', '.join(f'{w:.2f}' for w in walls)})"
    )


def child_cpu_s(warm_log: Path, runs: int) -> list[float]:
    """CPU seconds of the warm process's last ``runs`` children, as it logged them."""
    ended = re.findall(r"^ended \d+: .*, CPU ([0-9.]+) s$", warm_log.read_text(), re.MULTILINE)
    return [float(cpu) for cpu in ended[-runs:]]


def main(runs: int) -> None:
    """Start a server and warm process for a fresh home, time ``agree`` ``runs`` times in the warm
    process and in its own, interleaved, then the parts."""
    with tempfile.TemporaryDirectory() as base:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CROWDSCRIBE_"))
        }
        env.update(CROWDSCRIBE_HOME=f"{base}/home", PREFECT_HOME=f"{base}/prefect-profile")
        python = [sys.executable, "-c"]
        agree = [str(CROWDSCRIBE), "agree"]

        started = time.perf_counter()
        subprocess.run([str(CROWDSCRIBE), "prefect", "up"], env=env, check=True)
        print(f"prefect up: {time.perf_counter() - started:.1f} s")
        api_url = json.loads(Path(f"{base}/home/prefect/server.json").read_text())["api_url"]
        own_env = {**env, "CROWDSCRIBE_HOME": f"{base}/own", "PREFECT_API_URL": api_url}
        load_before = os.getloadavg()[0]
        warm, own = [], []
        try:
            timed(agree, env)  # the first runs create the flow's records
            timed(agree, own_env)
            for _ in range(runs):
                warm.append(timed(agree, env))
                own.append(timed(agree, own_env))
        finally:
            subprocess.run([str(CROWDSCRIBE), "prefect", "down"], env=env, check=True)
        load_after = os.getloadavg()[0]
        child_cpus = child_cpu_s(Path(f"{base}/home/prefect/warm.log"), runs)
        warm = [(wall, cpu + child) for (wall, cpu), child in zip(warm, child_cpus, strict=True)]
        report("agree on an empty queue, warm process (target < 2 s wall)", warm)
        report("agree on an empty queue, own process", own)
        parts = {
            "  python start": [*python, "pass"],
            "  import prefect": [*python, "import prefect, os; os._exit(0)"],
            "  import all agree loads": [*python, AGREE_IMPORTS],
            "  crowdscribe --help": [str(CROWDSCRIBE), "--help"],
        }
        for what, command in parts.items():
            report(what, [timed(command, env) for _ in range(runs)])
    print(
        f"load average (1 min) {load_before:.1f} before, {load_after:.1f} after the agree runs, "
        f"on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
