"""Which Prefect server a flow command talks to, and the server kept for a data home.

``PREFECT_API_URL`` if set; else the server ``crowdscribe prefect up`` started for the home;
else a temporary server started here as a child that the kernel stops when this process dies
(Prefect's own ephemeral server outlives a ``kill -9`` of its parent).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 20.0
PR_SET_PDEATHSIG = 1
# Resolved before any fork: the child may only make async-signal-safe calls.
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


def quiet_prefect_defaults() -> None:
    """Analytics off unless the user chose otherwise: no telemetry calls to the internet."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def configured_api_url() -> str | None:
    """The server Prefect's settings name: the environment, else the active profile (or a .env
    or prefect.toml Prefect reads), so ``prefect up|status|down`` and the flows agree on it.
    The environment wins over every other source, so it is read without importing Prefect."""
    if url := os.environ.get("PREFECT_API_URL"):
        return url
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def server_dir(home: Path) -> Path:
    """Where the home's Prefect server keeps its SQLite database, log and state file."""
    path = home / "prefect"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _state_file(home: Path) -> Path:
    return server_dir(home) / "server.json"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _server_env(home: Path, port: int, ui: bool) -> dict[str, str]:
    folder = server_dir(home)
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.update(
        PREFECT_HOME=str(folder),
        PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{folder / 'prefect.db'}",
        PREFECT_SERVER_API_HOST=HOST,
        PREFECT_SERVER_API_PORT=str(port),
        PREFECT_UI_ENABLED=str(ui).lower(),
        PREFECT_SERVER_UI_ENABLED=str(ui).lower(),
    )
    return env


def _command(port: int) -> list[str]:
    return [sys.executable, "-m", "prefect", "server", "start", "--host", HOST, "--port", str(port)]


def healthy(api_url: str, timeout_s: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout_s) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _wait_healthy(api_url: str, process: subprocess.Popen, log: Path | None) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text()[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"the Prefect server exited with {process.returncode}\n{tail}")
        if healthy(api_url):
            return
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"the Prefect server did not answer at {api_url} in {STARTUP_TIMEOUT_S} s")


def _die_with_parent(parent_pid: int) -> None:
    """In the forked child: ask the kernel for SIGTERM when the parent dies, even by SIGKILL."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def running_server(home: Path) -> dict | None:
    """The state (pid, port, api_url) of the home's server if it is up and answering."""
    state_file = _state_file(home)
    if not state_file.exists():
        return None
    state = json.loads(state_file.read_text())
    if not pid_alive(state["pid"]) or not healthy(state["api_url"]):
        return None
    return state


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_server(home: Path, port: int | None = None) -> dict:
    """Start the home's server in the background (its own session, so it outlives the command)
    and return its state once it answers; an already running one is returned as it is."""
    if state := running_server(home):
        return state
    port = port or _free_port()
    log = server_dir(home) / "server.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            _command(port),
            env=_server_env(home, port, ui=True),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    state = {"pid": process.pid, "port": port, "api_url": f"http://{HOST}:{port}/api"}
    _wait_healthy(state["api_url"], process, log)
    _state_file(home).write_text(json.dumps(state))
    return state


def stop_server(home: Path) -> dict | None:
    """Stop the home's server (SIGTERM, then SIGKILL after a grace period); returns its state."""
    state_file = _state_file(home)
    if not state_file.exists():
        return None
    state = json.loads(state_file.read_text())
    if pid_alive(state["pid"]):
        os.kill(state["pid"], signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while pid_alive(state["pid"]) and time.monotonic() < deadline:
            reap(state["pid"])
            time.sleep(0.1)
        if pid_alive(state["pid"]):
            os.kill(state["pid"], signal.SIGKILL)
    state_file.unlink()
    return state


def reap(pid: int) -> None:
    """Collect the server's exit status if it is our own child (``up`` and ``down`` in one
    process), so it does not linger as a zombie that looks alive."""
    with suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


@contextmanager
def temporary_server(home: Path) -> Iterator[str]:
    """A Prefect server for one command, on the home's SQLite; stopped when the command ends
    and killed by the kernel if the command is killed."""
    port = _free_port()
    parent = os.getpid()
    process = subprocess.Popen(
        _command(port),
        env=_server_env(home, port, ui=False),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=(lambda: _die_with_parent(parent)) if _prctl else None,  # noqa: PLW1509
    )
    pid_file = server_dir(home) / "temporary-server.pid"
    pid_file.write_text(str(process.pid))
    try:
        api_url = f"http://{HOST}:{port}/api"
        _wait_healthy(api_url, process, None)
        yield api_url
    finally:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        pid_file.unlink(missing_ok=True)


@contextmanager
def flow_api(home: Path) -> Iterator[str]:
    """Run the enclosed flows against the configured ``PREFECT_API_URL``, else the home's server,
    else a temporary server; yields the API URL used. On the way out the flows' logs and events
    are sent, so the command may leave without waiting for Prefect's exit hooks."""
    quiet_prefect_defaults()
    if url := configured_api_url():
        with _flow_settings(url):
            yield url
        return
    if state := running_server(home):
        with _flow_settings(state["api_url"]):
            yield state["api_url"]
        return
    sys.stderr.write(
        "starting a temporary Prefect server (`crowdscribe prefect up` keeps one running)\n"
    )
    with temporary_server(home) as url, _flow_settings(url):
        yield url


def _drain_to_server() -> None:
    """Send the logs and events still queued (before a temporary server stops, or the command
    leaves)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    EventsWorker.drain_all(timeout=10)


@contextmanager
def _flow_settings(url: str) -> Iterator[None]:
    """The API at ``url``, and no heartbeats unless PREFECT_FLOWS_HEARTBEAT_FREQUENCY asks for
    them: a synchronous flow run waits up to a second at its end for the heartbeat thread, and
    the open-source server acts on missing heartbeats only through an automation set up for it."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        temporary_settings,
    )

    updates: dict = {PREFECT_API_URL: url}
    if not os.environ.get("PREFECT_FLOWS_HEARTBEAT_FREQUENCY"):
        updates[PREFECT_FLOWS_HEARTBEAT_FREQUENCY] = None
    previous_url = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = url
    try:
        with temporary_settings(updates=updates):
            try:
                yield
            finally:
                _drain_to_server()
    finally:
        if previous_url is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = previous_url
