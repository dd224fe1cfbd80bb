"""Load and faults: a crowd of transcribers on the JSON API over PostgreSQL while things break.

``crowdscribe serve --workers 2`` on a fresh PostgreSQL database (created and dropped here);
200 transcribers (``--clients``), each on a keep-alive connection with a bearer token, claim a
clip, think 50-250 ms, submit, at an offered 300 pairs/s in all (``--rate``, open loop: a
claim's latency is counted from when it was due, so queueing is counted). After an unreported
warm-up, phases of load, each followed by the invariant checks of
``transcribe.dispatch.audit`` with the load stopped:

* steady - nothing breaks. The aim: p99 under 50 ms and no errors;
* worker killed - ``kill -9`` of one server worker; uvicorn's supervisor replaces it;
* connections terminated - ``pg_terminate_backend`` on every connection of the app's database;
* PostgreSQL restarted - ``pg_ctlcluster ... restart`` (or the service): every connection gone
  and the server away for a moment (the other users of this PostgreSQL see it too).

During faults a request may be answered 503 with Retry-After, never 500; clients retry after a
lost connection or a 503 with the same request_id (``bench/crowd.py``, faults in
``bench/faults.py``). Prints a table per
phase with the load average. Usage:
    .venv/bin/python bench/load.py [--clients 200] [--rate 300] [--seconds 20]
        [--faults kill terminate restart]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.crowd import Crowd, Tally, dispatch_check  # noqa: E402
from bench.faults import (  # noqa: E402
    kill_worker,
    restart_postgres,
    terminate_connections,
    wait_until_serving,
)
from bench.scratch import Scratch, percentile, start_server  # noqa: E402

WARM_UP_S = 4.0
FAULTS = {
    "kill": "worker killed -9",
    "terminate": "connections terminated",
    "restart": "PostgreSQL restarted",
}


def fault_action(name: str, server_pid: int, database_url: str):
    """The call that injects fault ``name``; it returns what it did."""
    actions = {
        "kill": lambda: kill_worker(server_pid, database_url),
        "terminate": lambda: terminate_connections(database_url),
        "restart": restart_postgres,
    }
    return actions[name]


def row(name: str, tally: Tally, findings: dict[str, list[str]], load: float) -> str:
    def p(values: list[float], share: float) -> str:
        return f"{percentile(values, share):.1f}" if values else "-"

    lost = sum(n for cause, n in tally.retried.items() if cause.startswith("lost"))
    broken = sum(len(found) for found in findings.values())
    fives = sum(n for answer, n in tally.answers.items() if answer.endswith(" 500"))
    return (
        f"{name:<24} {tally.pairs:6d} {tally.pairs / tally.seconds:7.0f}"
        f" {p(tally.claim_ms, 0.5):>6}/{p(tally.claim_ms, 0.99):<7}"
        f" {p(tally.submit_ms, 0.5):>6}/{p(tally.submit_ms, 0.99):<7}"
        f" {p(tally.pair_ms, 0.5):>6}/{p(tally.pair_ms, 0.99):<7}"
        f" {max(tally.requests_ms, default=0):8.0f}"
        f" {tally.retried.total() - lost:5d} {lost:5d} {fives:4d}"
        f" {len(tally.unexpected):6d} {'hold' if not broken else f'{broken} BROKEN':>10}"
        f" {load:5.1f}"
    )


HEADER = (
    f"{'phase':<24} {'pairs':>6} {'pairs/s':>7} {'claim p50/p99':>14} {'submit p50/p99':>14}"
    f" {'pair p50/p99':>14} {'max ms':>8} {'503s':>5} {'lost':>5} {'500s':>4} {'errors':>6}"
    f" {'invariants':>10} {'load':>5}"
)


async def run_phases(args, scratch: Scratch, server_pid: int, base: str) -> list[str]:
    crowd = Crowd(base, scratch.people)
    lines = []
    try:
        await crowd.run(args.rate, WARM_UP_S)  # unreported: first requests of each process
        phases = [("steady", ())] + [
            (FAULTS[name], ((args.fault_at_s, fault_action(name, server_pid, scratch.url)),))
            for name in args.faults
        ]
        print(HEADER, flush=True)
        for name, faults in phases:
            tally = await crowd.run(args.rate, args.seconds, faults=faults)
            findings = await asyncio.to_thread(dispatch_check, scratch.database, crowd.acknowledged)
            load = os.getloadavg()[0]
            line = row(name, tally, findings, load)
            lines.append(line)
            print(line, flush=True)
            for note in tally.faults:
                print(f"    fault: {note}")
            for cause, count in sorted(tally.retried.items()):
                print(f"    retried after {cause}: {count}x")
            for answer, count in sorted(tally.answers.items()):
                if not answer.endswith((" 200", " 201")):
                    print(f"    answered {answer}: {count}x")
            for problem in sorted(set(tally.unexpected))[:5]:
                print(f"    error: {problem}")
            for invariant, found in findings.items():
                for finding in found[:5]:
                    print(f"    BROKEN {invariant}: {finding}")
    finally:
        crowd.close()
    print(f"acknowledged submissions checked: {len(crowd.acknowledged)}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=float, default=300.0, help="offered pairs/s")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--fault-at-s", type=float, default=5.0, help="fault offset in a phase")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--faults", nargs="*", default=list(FAULTS), choices=list(FAULTS))
    args = parser.parse_args()
    phases = 1 + len(args.faults)
    # Two slots a clip; a third to spare so the queue never runs dry.
    clips = math.ceil(args.rate * (WARM_UP_S + phases * args.seconds) / 2 * 1.3)
    print(
        f"{args.clients} transcribers, offered {args.rate:.0f} pairs/s (open loop), "
        f"{args.seconds:.0f} s a phase, faults {args.fault_at_s:.0f} s in; "
        f"crowdscribe serve --workers {args.workers} on PostgreSQL; {os.cpu_count()} cores "
        f"for load generator, server and database; latencies in ms",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as home:
        scratch = Scratch("postgres", clips, args.clients, Path(home))
        try:
            server, base = start_server(scratch, None, args.workers)
            try:
                wait_until_serving(scratch.url, args.workers)
                asyncio.run(run_phases(args, scratch, server.pid, base))
            finally:
                server.terminate()
                server.wait(timeout=60)
        finally:
            scratch.close()


if __name__ == "__main__":
    main()
