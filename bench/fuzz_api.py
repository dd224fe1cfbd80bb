"""The long form of tests/web/test_hostile_input.py's fuzzing: schemathesis requests for every
operation of the OpenAPI schema under each role's token, on SQLite and PostgreSQL, with many more
examples per operation than the suite's few. Prints the time and the outcome per database.
Usage:
    .venv/bin/python bench/fuzz_api.py [--examples 100]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST = "tests/web/test_hostile_input.py::test_no_generated_request_is_a_server_error"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=100, help="examples per operation")
    args = parser.parse_args()
    env = {**os.environ, "CROWDSCRIBE_FUZZ_EXAMPLES": str(args.examples)}
    for database in ("sqlite", "postgres"):
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", f"{TEST}[{database}]"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        outcome = "no 5xx" if result.returncode == 0 else "FAILED:\n" + result.stdout[-3000:]
        print(f"{database}: {args.examples} examples per operation, {seconds:.0f} s, {outcome}")


if __name__ == "__main__":
    main()
