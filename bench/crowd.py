"""What the benches share: a scratch database with published clips and qualified people, the web
server as ``crowdscribe serve`` runs it, a lean HTTP client, CPU accounting, and a crowd of
transcribers that claim and submit over the JSON API at an offered rate (open loop) while faults
are injected: a server worker killed, the app's PostgreSQL connections terminated, PostgreSQL
restarted. The crowd retries as a careful client does: after a lost connection, or a 503 after
its Retry-After, with the same request_id; everything else it was answered is kept to be
checked (``transcribe.dispatch.audit``). ``bench/dispatch.py`` and ``bench/load.py`` use it, and
so does the load test (``tests/web/test_load_faults.py``).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import create_engine, insert, make_url, text

from crowdscribe.clock import utc_now
from crowdscribe.storage.db import ASYNC_POOL_NAME, ASYNC_POOL_SIZE, Database, open_database
from crowdscribe.storage.models import Clip, Recording
from transcribe.dispatch.audit import Acknowledged, dispatch_findings
from transcribe.pricing import default_rate_card
from transcribe.publishing import publish_clips
from transcribe.users import create_user

POSTGRES_ADMIN_URL = os.environ.get(
    "CROWDSCRIBE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEXT = "so we [noise] went to the um market and bought- ((some)) apples"
# A request is given up (and counted as an error) after this long of retrying.
GIVE_UP_S = 60.0
# A lost connection is tried again after this pause, growing with each attempt.
RECONNECT_PAUSE_S = 0.05


class Answer(NamedTuple):
    status: int
    body: bytes
    retry_after_s: float | None


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def seed(database: Database, clips: int, people: int) -> list[tuple[int, str]]:
    """``clips`` published 5 s clips (overlap 2) and ``people`` transcribers qualified in
    English, with fresh planner statistics; each person's (id, API token)."""
    now = utc_now()
    with database.session() as session:
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
    # Fresh planner statistics for the seeded tables, as autovacuum (PostgreSQL) or `PRAGMA
    # optimize` would give a live database: without them PostgreSQL picks a nested loop over
    # a person's history. Tables the run fills stay unanalysed: statistics saying "empty"
    # would make PostgreSQL scan them whole for the rest of the run.
    with database.engine.connect() as connection:
        if database.dialect == "sqlite":
            connection.execute(text("ANALYZE"))
        else:
            for table in ("clips", "work_items", "users", "qualifications"):
                connection.execute(text(f"ANALYZE {table}"))
        connection.commit()
    return [(person.id, token) for person, token in made]


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
        self.people = seed(self.database, clips, people)

    def close(self) -> None:
        self.database.dispose()
        if self.kind == "postgres":
            admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE "{self.name}" WITH (FORCE)'))
            admin.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(
    scratch: Scratch, server_cpus: str | None, workers: int = 1
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "CROWDSCRIBE_HOME": str(scratch.home),
        "CROWDSCRIBE_DATABASE_URL": scratch.url,
        "CROWDSCRIBE_GOLD_RATE": "0",
        "CROWDSCRIBE_SECRET_KEY": "bench",
    }
    pin = ["taskset", "-c", server_cpus] if server_cpus else []
    server = subprocess.Popen(
        [
            *pin,
            sys.executable,
            "-m",
            "app.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
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


class Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol for this API,
    reconnecting (inside the next request's time) when the server answers ``Connection: close``.

    httpx's pool costs several ms of CPU per request at 50 concurrent clients, on the same two
    cores as the server, and became the bottleneck; raw asyncio streams cost a tenth of that.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        connection = cls(host, port)
        await connection.connect()
        return connection

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, path: str, token: str, body: bytes = b"") -> Answer:
        if self.writer is None:
            await self.connect()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        headers = await self.reader.readuntil(b"\r\n\r\n")
        length, closing, retry_after_s = 0, False, None
        for line in headers.split(b"\r\n"):
            name, _, value = line.partition(b":")
            name = name.lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                closing = value.strip().lower() == b"close"
            elif name == b"retry-after":
                retry_after_s = float(value)
        payload = await self.reader.readexactly(length) if length else b""
        if closing:
            self.close()
        return Answer(status, payload, retry_after_s)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time so far of the processes still running among ``pids``."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone: only its CPU since the last reading is lost
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    """This machine's PostgreSQL processes: backends, WAL writer, autovacuum..."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if cmdline.read().startswith(b"postgres"):
                    pids.append(int(entry))
        except OSError:
            continue
    return pids


def server_pids(server: subprocess.Popen) -> list[int]:
    """The ``crowdscribe serve`` process and its worker processes."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return [server.pid, *map(int, children)]


# --- a crowd under load ---------------------------------------------------------------------


@dataclass
class Tally:
    """What a crowd saw in one run: latencies in ms (a claim's from when it was due, a submit's
    from when it was sent, a pair's the two added), final answers by kind, retries by cause,
    anything a careful client should never get, and what the injected faults did."""

    seconds: float = 0.0
    claim_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    pair_ms: list[float] = field(default_factory=list)
    answers: Counter = field(default_factory=Counter)
    retried: Counter = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)

    @property
    def pairs(self) -> int:
        return len(self.pair_ms)

    @property
    def requests_ms(self) -> list[float]:
        return self.claim_ms + self.submit_ms


class GaveUp(Exception):
    """A request still failed after ``GIVE_UP_S`` of retries."""


class Crowd:
    """Transcribers, each on a keep-alive connection of their own, and every submission they
    were acknowledged (201) across runs."""

    def __init__(self, url: str, people: list[tuple[int, str]], seed_value: int = 1) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.people = people
        self.connections = [Connection(host, int(port)) for _ in people]
        self.acknowledged: list[Acknowledged] = []
        self.random = random.Random(seed_value)

    def close(self) -> None:
        for connection in self.connections:
            connection.close()

    async def _ask(
        self, http: Connection, path: str, token: str, body: bytes, tally: Tally
    ) -> Answer:
        """POST until answered other than 503 or a lost connection (same body each time)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GIVE_UP_S
        attempt = 0
        while True:
            try:
                answer = await asyncio.wait_for(http.post(path, token, body), GIVE_UP_S)
            except (OSError, EOFError, asyncio.IncompleteReadError, TimeoutError) as error:
                http.close()
                tally.retried[f"lost connection ({type(error).__name__}) on {path[8:15]}"] += 1
                pause_s = RECONNECT_PAUSE_S * (attempt + 1)
            else:
                if answer.status != 503:
                    return answer
                tally.retried[f"503 + Retry-After on {path[8:15]}: {answer.body[:120]!r}"] += 1
                pause_s = answer.retry_after_s or 1.0
            attempt += 1
            if loop.time() + pause_s > deadline:
                raise GaveUp(f"{path} still failing after {attempt} attempts")
            await asyncio.sleep(pause_s)

    async def _pair(self, index: int, due: float, think_s: float, tally: Tally) -> bool:
        """Claim, think, submit; False when there is no work left."""
        loop = asyncio.get_running_loop()
        user_id, token = self.people[index]
        http = self.connections[index]
        claim = await self._ask(http, "/api/v1/clips/next", token, b"", tally)
        claimed_at = loop.time()
        tally.answers[f"claim {claim.status}"] += 1
        if claim.status == 204:
            return False
        if claim.status != 200:
            tally.unexpected.append(f"claim answered {claim.status}: {claim.body[:200]!r}")
            return True
        assignment = json.loads(claim.body)["assignment_id"]
        await asyncio.sleep(think_s)
        request_id = f"{user_id}-{assignment}"
        body = json.dumps({"text": TEXT, "request_id": request_id}).encode()
        sent_at = loop.time()
        path = f"/api/v1/assignments/{assignment}/submit"
        sent = await self._ask(http, path, token, body, tally)
        done_at = loop.time()
        tally.answers[f"submit {sent.status}"] += 1
        if sent.status != 201:
            tally.unexpected.append(f"submit answered {sent.status}: {sent.body[:200]!r}")
            return True
        receipt = json.loads(sent.body)
        self.acknowledged.append(
            Acknowledged(user_id, assignment, request_id, receipt["submission_id"])
        )
        claim_ms, submit_ms = (claimed_at - due) * 1000, (done_at - sent_at) * 1000
        tally.claim_ms.append(claim_ms)
        tally.submit_ms.append(submit_ms)
        tally.pair_ms.append(claim_ms + submit_ms)
        return True

    async def run(
        self,
        rate: float,
        seconds: float,
        *,
        think_s: tuple[float, float] = (0.05, 0.25),
        faults: tuple[tuple[float, Callable[[], str]], ...] = (),
    ) -> Tally:
        """Offer ``rate`` pairs/s spread evenly over the crowd for ``seconds`` (open loop: a
        pair waits for nothing but its due time), each person thinking a random ``think_s``
        between claim and submit; each fault is called (in a thread) at its offset in s."""
        loop = asyncio.get_running_loop()
        tally = Tally()
        # The server closes keep-alive connections idle for 5 s, as they were between runs: a
        # lost connection should count only what happens during this run.
        self.close()
        clients = len(self.people)
        interval = clients / rate
        start = loop.time() + 0.1
        deadline = start + seconds

        async def transcriber(index: int) -> None:
            due = start + interval * index / clients
            while due < deadline:
                if due > loop.time():
                    await asyncio.sleep(due - loop.time())
                try:
                    more = await self._pair(index, due, self.random.uniform(*think_s), tally)
                except GaveUp as error:
                    tally.unexpected.append(str(error))
                    more = True
                if not more:
                    tally.unexpected.append("the queue ran dry")
                    return
                due += interval

        async def inject(offset_s: float, fault: Callable[[], str]) -> None:
            await asyncio.sleep(max(0.0, start + offset_s - loop.time()))
            tally.faults.append(await asyncio.to_thread(fault))

        await asyncio.gather(
            *(transcriber(index) for index in range(clients)),
            *(inject(offset_s, fault) for offset_s, fault in faults),
        )
        tally.seconds = loop.time() - start
        return tally


def dispatch_check(database: Database, acknowledged: list[Acknowledged]) -> dict[str, list[str]]:
    """The invariants of ``transcribe.dispatch.audit`` on ``database``, by name."""
    with database.session() as session:
        return dispatch_findings(session, acknowledged, utc_now())


# --- faults ---------------------------------------------------------------------------------


def worker_pids(server_pid: int) -> set[int]:
    """The worker processes uvicorn's supervisor runs for ``crowdscribe serve``."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    workers = set()
    for pid in children:
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                workers.add(int(pid))
        except OSError:
            continue  # gone meanwhile
    return workers


def serving_workers(database_url: str) -> int:
    """How many server workers are serving on ``database_url``: the async pools' connections
    (named ``crowdscribe-claims``) over the pool size. A worker's process exists seconds
    before its app has started; this counts the ones ready."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            named = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = :name AND application_name = :app"
                ),
                {"name": make_url(database_url).database, "app": ASYNC_POOL_NAME},
            )
    finally:
        admin.dispose()
    return named // ASYNC_POOL_SIZE


def wait_until_serving(database_url: str, workers: int, timeout_s: float = 120.0) -> float:
    """Wait until ``workers`` server workers serve on ``database_url``; the seconds it took."""
    started = time.monotonic()
    while serving_workers(database_url) < workers:
        if time.monotonic() - started > timeout_s:
            raise RuntimeError(f"{workers} server workers were not serving after {timeout_s} s")
        time.sleep(0.1)
    return time.monotonic() - started


def kill_worker(server_pid: int, database_url: str) -> str:
    """``kill -9`` one server worker; return once the supervisor's replacement is serving."""
    before = worker_pids(server_pid)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    waited_s = wait_until_serving(database_url, len(before))
    # Its connections close as the process dies: serving again means the replacement's pool.
    return f"worker {victim} killed -9, a new one serving after {waited_s:.1f} s"


def terminate_connections(database_url: str) -> str:
    """``pg_terminate_backend`` on every connection to the app's database (the async pool's,
    named ``crowdscribe-claims``, and the page pool's), as an administrator or a failover
    would."""
    name = make_url(database_url).database
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT application_name, pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            ).all()
    finally:
        admin.dispose()
    named = Counter(application or "(unnamed)" for application, _ in rows)
    return "terminated " + ", ".join(f"{n} {app}" for app, n in sorted(named.items()))


def restart_command() -> list[str]:
    """How PostgreSQL is restarted on this machine: its Debian cluster, else the service."""
    if shutil.which("pg_lsclusters") and shutil.which("pg_ctlcluster"):
        port = str(make_url(POSTGRES_ADMIN_URL).port or 5432)
        listed = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
        for line in listed.splitlines():
            version, cluster, cluster_port, *_ = line.split()
            if cluster_port == port:
                return ["pg_ctlcluster", version, cluster, "restart", "-m", "fast"]
    return ["service", "postgresql", "restart"]


def restart_postgres(timeout_s: float = 60.0) -> str:
    """Restart PostgreSQL (every connection dropped, the server away for a moment); return
    once it accepts connections again."""
    command = restart_command()
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True)
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        while True:
            try:
                with admin.connect() as connection:
                    connection.execute(text("SELECT 1"))
                break
            except Exception:  # noqa: BLE001 - not up yet
                if time.monotonic() - started > timeout_s:
                    raise
                time.sleep(0.1)
    finally:
        admin.dispose()
    return f"`{' '.join(command)}`: accepting connections after {time.monotonic() - started:.1f} s"
