"""What the benches share to set up a run: a scratch database with published clips and qualified
transcribers, the web server as ``crowdscribe serve`` runs it, a lean HTTP/1.1 client, and CPU
accounting of the processes involved (``bench/dispatch.py``, ``bench/load.py`` and the load test).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import create_engine, insert, make_url, text

from crowdscribe.clock import utc_now
from crowdscribe.storage.db import Database, open_database
from crowdscribe.storage.models import Clip, Recording
from transcribe.pricing import default_rate_card
from transcribe.publishing import publish_clips
from transcribe.users import create_user

POSTGRES_ADMIN_URL = os.environ.get(
    "CROWDSCRIBE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEXT = "so we [noise] went to the um market and bought- ((some)) apples"


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


@contextmanager
def scratch_database(kind: str, home: Path) -> Iterator[Database]:
    """A fresh, migrated database: ``sqlite`` in ``home``, or ``postgres`` on the local server,
    dropped afterwards."""
    if kind == "sqlite":
        database = open_database(f"sqlite:///{home / 'bench.db'}")
        try:
            yield database
        finally:
            database.dispose()
        return
    name = f"cs_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    database = open_database(url)
    try:
        yield database
    finally:
        database.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


class Scratch:
    """A fresh database with ``clips`` published clips (overlap 2) and ``people`` qualified."""

    def __init__(self, kind: str, clips: int, people: int, home: Path) -> None:
        self.kind, self.home = kind, home
        self._stack = ExitStack()
        self.database = self._stack.enter_context(scratch_database(kind, home))
        self.url = self.database.url
        try:
            self.people = seed(self.database, clips, people)
        except BaseException:
            self._stack.close()
            raise

    def close(self) -> None:
        self._stack.close()


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
