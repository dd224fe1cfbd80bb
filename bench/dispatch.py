"""Claim+submit throughput and latency with 50 concurrent transcribers, SQLite and PostgreSQL.

Two layers: the domain functions called from 50 threads, and the JSON API over HTTP (uvicorn in
a subprocess, 50 httpx clients with bearer tokens). Two loads each:

* closed loop - every client claims and submits again as soon as it can: the maximum rate.
  By Little's law mean latency is then just clients / throughput, so it says little on its own;
* open loop - a fixed offered rate (``--rate`` pairs/s spread over the clients), latency measured
  from the moment a pair was due, so queueing delay is counted (no coordinated omission).

Prints medians over ``--repeats`` runs. Usage:
    .venv/bin/python bench/dispatch.py [--db sqlite postgres] [--layer domain http] [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crowdscribe.storage.db import Database, open_database  # noqa: E402
from crowdscribe.storage.models import Clip, Recording  # noqa: E402
from transcribe.pricing import default_rate_card  # noqa: E402
from transcribe.queue import NoWork, claim_next_clip, publish_clips, submit_transcript  # noqa: E402
from transcribe.users import create_user  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get(
    "CROWDSCRIBE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEXT = "so we [noise] went to the um market and bought- ((some)) apples"


@dataclass
class Run:
    pairs: int
    seconds: float
    pair_ms: list[float]
    claim_ms: list[float]
    submit_ms: list[float]

    @property
    def rate(self) -> float:
        return self.pairs / self.seconds


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


class Scratch:
    """A fresh database with ``clips`` published clips (overlap 2) and ``people`` qualified."""

    def __init__(self, kind: str, clips: int, people: int, home: Path) -> None:
        self.kind, self.home = kind, home
        if kind == "sqlite":
            self.url = f"sqlite:///{home / 'bench.db'}"
        else:
            self.name = f"cs_bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self.name}"'))
            admin.dispose()
            self.url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.name}"
        self.database = open_database(self.url)
        self.people = self._seed(clips, people)

    def _seed(self, clips: int, people: int) -> list[tuple[int, str]]:
        now = datetime.now(UTC)
        with self.database.session() as session:
            recording = Recording(
                source="bench",
                source_path="/bench.wav",
                status="segmented",
                language="en",
                speaker_group="adult",
                project="bench",
            )
            session.add(recording)
            session.flush()
            rows = [
                {
                    "id": f"c{n:07d}",
                    "recording_id": recording.id,
                    "start_s": n * 5.0,
                    "end_s": n * 5.0 + 5,
                    "duration_s": 5.0,
                    "audio_path": f"clips/c{n}.flac",
                    "language": "en",
                    "speaker_group": "adult",
                    "project": "bench",
                    "status": "collected",
                    "priority": 0,
                    "created_at": now,
                }
                for n in range(clips)
            ]
            session.execute(insert(Clip), rows)
            publish_clips(session, project=None, overlap=2, card=default_rate_card(), now=now)
            made = [
                create_user(session, f"t{n:03d}", ["transcriber"], ["en"], qualified=["en"])
                for n in range(people)
            ]
        # Fresh planner statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize` would give a
        # live database: without them PostgreSQL picks a nested loop over a person's history.
        with self.database.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
        return [(person.id, token) for person, token in made]

    def close(self) -> None:
        self.database.dispose()
        if self.kind == "postgres":
            admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE "{self.name}" WITH (FORCE)'))
            admin.dispose()


def domain_pair(database: Database, user_id: int, number: int) -> tuple[float, float] | None:
    started = time.perf_counter()
    claim = claim_next_clip(database, user_id, lease_s=600)
    if isinstance(claim, NoWork):
        return None
    claimed = time.perf_counter()
    with database.session() as session:
        submit_transcript(
            session, claim.assignment_id, user_id, TEXT, f"r{user_id}-{number}", datetime.now(UTC)
        )
    return (claimed - started) * 1000, (time.perf_counter() - claimed) * 1000


def run_domain(scratch: Scratch, seconds: float, rate: float | None) -> Run:
    clients = len(scratch.people)
    interval = clients / rate if rate else 0.0
    pair_ms, claim_ms, submit_ms, ends = [], [], [], []
    lock = threading.Lock()
    start = time.perf_counter() + 0.2
    deadline = start + seconds

    def client(index: int, user_id: int) -> None:
        number = 0
        due = start + (interval * index / clients if rate else 0.0)
        while True:
            now = time.perf_counter()
            if rate and due > now:
                time.sleep(due - now)
            begun = due if rate else time.perf_counter()
            if begun >= deadline:
                return
            result = domain_pair(scratch.database, user_id, number)
            if result is None:
                return
            finished = time.perf_counter()
            with lock:
                ends.append(finished)
                pair_ms.append((finished - begun) * 1000)
                claim_ms.append(result[0])
                submit_ms.append(result[1])
            number += 1
            due += interval

    threads = [
        threading.Thread(target=client, args=(i, uid)) for i, (uid, _) in enumerate(scratch.people)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Throughput over the time actually taken: an overloaded open loop finishes late.
    return Run(len(pair_ms), max(ends) - start, pair_ms, claim_ms, submit_ms)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(scratch: Scratch) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "CROWDSCRIBE_HOME": str(scratch.home),
        "CROWDSCRIBE_DATABASE_URL": scratch.url,
        "CROWDSCRIBE_GOLD_RATE": "0",
        "CROWDSCRIBE_SECRET_KEY": "bench",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "crowdscribe.web.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            os.environ.get("BENCH_LOG","warning"),
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return server, base
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the web app did not start")


async def run_http(base: str, people: list[tuple[int, str]], seconds: float, rate: float | None):
    import httpx

    clients = len(people)
    interval = clients / rate if rate else 0.0
    pair_ms, claim_ms, submit_ms, ends = [], [], [], []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.3
        deadline = start + seconds

        async def client(index: int, token: str) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            due, number = start + (interval * index / clients if rate else 0.0), 0
            while True:
                if rate and due > loop.time():
                    await asyncio.sleep(due - loop.time())
                begun = due if rate else loop.time()
                if begun >= deadline:
                    return
                asked = loop.time()
                claimed = await http.post("/api/v1/clips/next", headers=headers)
                if claimed.status_code == 204:
                    return
                claimed.raise_for_status()
                got = loop.time()
                assignment = claimed.json()["assignment_id"]
                sent = await http.post(
                    f"/api/v1/assignments/{assignment}/submit",
                    headers=headers,
                    json={"text": TEXT, "request_id": f"req-{assignment}"},
                )
                sent.raise_for_status()
                finished = loop.time()
                ends.append(finished)
                pair_ms.append((finished - begun) * 1000)
                claim_ms.append((got - asked) * 1000)
                submit_ms.append((finished - got) * 1000)
                number += 1
                due += interval

        await asyncio.gather(*(client(i, token) for i, (_, token) in enumerate(people)))
    return Run(len(pair_ms), max(ends) - start, pair_ms, claim_ms, submit_ms)


def summarise(label: str, runs: list[Run]) -> None:
    def med(values):
        return statistics.median(values)

    print(
        f"{label:<34} {med([r.rate for r in runs]):8.0f} pairs/s"
        f"  pair p50 {med([percentile(r.pair_ms, 0.5) for r in runs]):6.1f} ms"
        f"  p99 {med([percentile(r.pair_ms, 0.99) for r in runs]):6.1f} ms"
        f"  | claim p50/p99 {med([percentile(r.claim_ms, 0.5) for r in runs]):5.1f}/"
        f"{med([percentile(r.claim_ms, 0.99) for r in runs]):5.1f}"
        f"  submit p50/p99 {med([percentile(r.submit_ms, 0.5) for r in runs]):5.1f}/"
        f"{med([percentile(r.submit_ms, 0.99) for r in runs]):5.1f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--layer", nargs="+", default=["domain", "http"])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rate", type=float, default=500.0, help="open-loop pairs/s")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    clips = int(max(args.rate, 1500) * args.seconds)  # two slots each: never runs dry
    print(f"{args.clients} clients, {args.seconds:.0f} s per run, median of {args.repeats} runs")
    for kind in args.db:
        for layer in args.layer:
            for load, rate in (("closed loop", None), (f"open loop {args.rate:.0f}/s", args.rate)):
                runs = []
                for _ in range(args.repeats):
                    with tempfile.TemporaryDirectory() as home:
                        scratch = Scratch(kind, clips, args.clients, Path(home))
                        try:
                            if layer == "domain":
                                runs.append(run_domain(scratch, args.seconds, rate))
                            else:
                                server, base = start_server(scratch)
                                try:
                                    runs.append(
                                        asyncio.run(
                                            run_http(base, scratch.people, args.seconds, rate)
                                        )
                                    )
                                finally:
                                    server.terminate()
                                    server.wait(timeout=30)
                        finally:
                            scratch.close()
                summarise(f"{kind} {layer} {load}", runs)


if __name__ == "__main__":
    main()
