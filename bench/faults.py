"""Faults to inject under load, each returning what it did: a server worker killed with
``kill -9``, every connection of the app's database terminated, PostgreSQL restarted; and when
a server's workers are serving (their async pools' named connections are open)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from bench.scratch import POSTGRES_ADMIN_URL
from crowdscribe.storage.db import ASYNC_POOL_NAME, ASYNC_POOL_SIZE


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
    killed_at = time.monotonic()
    # Its backends end once PostgreSQL sees the sockets close (a busy server takes a moment);
    # only then does a full count mean the replacement's pool.
    while serving_workers(database_url) >= len(before) and time.monotonic() - killed_at < 30:
        time.sleep(0.05)
    wait_until_serving(database_url, len(before))
    return (
        f"worker {victim} killed -9, a new one serving after {time.monotonic() - killed_at:.1f} s"
    )


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
