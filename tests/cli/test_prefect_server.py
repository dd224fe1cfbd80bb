"""The Prefect server a flow command uses: the home's (``prefect up``) or a temporary one that
dies with the command, even under ``kill -9``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.test_collect_cli import long_recording

CROWDSCRIBE = Path(sys.executable).parent / "crowdscribe"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A data home and a Prefect profile of their own, and no PREFECT_API_URL."""
    variables = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PREFECT_", "CROWDSCRIBE_"))
    }
    variables.update(
        CROWDSCRIBE_HOME=str(tmp_path / "home"),
        PREFECT_HOME=str(tmp_path / "prefect-profile"),
        COLUMNS="200",
    )
    return variables


def crowdscribe(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CROWDSCRIBE), *args], env=env, capture_output=True, text=True, timeout=300
    )


def alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def wait_for(condition: Callable[[], object], timeout_s: float, what: str) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout_s} s")


def answers(pid: int) -> bool:
    arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    port = arguments[arguments.index(b"--port") + 1].decode()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1) as reply:
            return reply.status == 200
    except OSError:
        return False


def api_filter(api_url: str, kind: str) -> list[dict]:
    """Every record of ``kind`` (flow_runs, logs) the server holds."""
    request = urllib.request.Request(
        f"{api_url}/{kind}/filter", data=b"{}", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


def test_a_killed_collect_takes_its_temporary_server_with_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    recording = long_recording(tmp_path / "long.wav", minutes=30)
    pid_file = tmp_path / "home" / "prefect" / "temporary-server.pid"
    run = subprocess.Popen(
        [str(CROWDSCRIBE), "collect", str(recording), "--language", "en"]
        + ["--speaker-group", "adult"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        server = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), 60, "pid"))
        wait_for(lambda: answers(server), 120, "the temporary server answering")
        assert run.poll() is None, "collect ended before it could be killed"
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        wait_for(lambda: not alive(server), 20, "the orphaned server stopping")
    finally:
        run.kill()
        run.wait()


def test_prefect_up_serves_flow_commands_until_down(env: dict[str, str], tmp_path: Path) -> None:
    up = crowdscribe(env, "prefect", "up")
    try:
        assert up.returncode == 0, up.stderr
        state = json.loads((tmp_path / "home" / "prefect" / "server.json").read_text())
        status = crowdscribe(env, "prefect", "status")
        assert status.returncode == 0 and state["api_url"] in status.stdout

        agree = crowdscribe(env, "agree")

        assert agree.returncode == 0, agree.stderr
        assert "temporary" not in agree.stderr
        for noise in ("telemetry", "Error", "Traceback"):
            assert noise not in agree.stdout + agree.stderr
        runs = api_filter(state["api_url"], "flow_runs")
        assert [run["state_type"] for run in runs] == ["COMPLETED"]
        # The command leaves without waiting for Prefect's exit hooks: its logs got there first.
        messages = [log["message"] for log in api_filter(state["api_url"], "logs")]
        assert "0 batch(es) of complete clips" in messages
        assert any(message.startswith("Finished in state Completed") for message in messages)
    finally:
        down = crowdscribe(env, "prefect", "down")
    assert down.returncode == 0, down.stderr
    assert not alive(state["pid"])
    assert crowdscribe(env, "prefect", "status").returncode == 1


def test_a_server_named_only_in_the_prefect_profile_is_the_one_up_and_status_use(
    env: dict[str, str], prefect_server: str
) -> None:
    # Flows honour the profile (Prefect's own settings), so the commands that report the server
    # must too: else `prefect up` starts a home server the flows never use.
    profiles = Path(env["PREFECT_HOME"]) / "profiles.toml"
    profiles.parent.mkdir(parents=True)

    def use_profile(api_url: str) -> None:
        profiles.write_text(
            f'active = "campaign"\n\n[profiles.campaign]\nPREFECT_API_URL = "{api_url}"\n'
        )

    use_profile(prefect_server)
    status = crowdscribe(env, "prefect", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"up: {prefect_server} (PREFECT_API_URL)" in status.stdout

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{probe.getsockname()[1]}/api"
    use_profile(nobody)
    up = crowdscribe(env, "prefect", "up")
    assert up.returncode == 2
    assert f"no Prefect server answers at {nobody}" in up.stderr
    assert not (Path(env["CROWDSCRIBE_HOME"]) / "prefect" / "server.json").exists()
