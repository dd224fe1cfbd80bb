"""``crowdscribe serve --workers N``: a worker that dies is replaced while the others serve."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx

from crowdscribe.storage.db import Database
from tests.builders import add_person


def _workers(server_pid: int) -> set[int]:
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    return {
        int(pid) for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    }


def _wait_for_workers(server_pid: int, count: int, timeout_s: float = 30.0) -> set[int]:
    deadline = time.monotonic() + timeout_s
    while len(workers := _workers(server_pid)) != count:
        assert time.monotonic() < deadline, f"expected {count} workers, have {workers}"
        time.sleep(0.1)
    return workers


def test_a_killed_worker_is_replaced_and_no_request_fails(serve, sqlite_database: Database) -> None:
    _person, token = add_person(sqlite_database, "ana")
    headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
    with serve(sqlite_database, workers=2) as server:
        first = _wait_for_workers(server.pid, 2)
        assert httpx.get(f"{server.url}/api/v1/me", headers=headers, timeout=30).status_code == 200
        os.kill(min(first), signal.SIGKILL)
        statuses = []
        deadline = time.monotonic() + 4.0
        while time.monotonic() < deadline:
            response = httpx.get(f"{server.url}/api/v1/me", headers=headers, timeout=20)
            statuses.append(response.status_code)
        replaced = _wait_for_workers(server.pid, 2)
    assert set(statuses) == {200}, statuses
    assert min(first) not in replaced and max(first) in replaced
