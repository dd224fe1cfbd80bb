"""Flow commands handed to the warm process ``crowdscribe prefect up`` keeps: the same output,
exit codes and stored effects as run in their own process, a killed command takes its child
with it, and a stale socket changes nothing but the speed."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import warm_client, warm_process
from tests.builders import espeak_wav
from tests.cli.test_collect_cli import _stored, long_recording
from tests.cli.test_prefect_server import alive, wait_for

CROWDSCRIBE = Path(sys.executable).parent / "crowdscribe"
PREFECT_LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} \| ")
ELAPSED = re.compile(r"\b\d+:\d\d:\d\d\b")  # the progress bar's clock


class Homes:
    """A data home with ``prefect up`` (server and warm process), and one without either whose
    commands run in their own process against that same server."""

    def __init__(self, base: Path) -> None:
        self.base = base
        clean = {
            k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CROWDSCRIBE_"))
        }
        clean.update(PREFECT_HOME=str(base / "profile"), COLUMNS="200")
        self.warm = {**clean, "CROWDSCRIBE_HOME": str(base / "warm")}
        self.cold = {**clean, "CROWDSCRIBE_HOME": str(base / "cold")}
        self.warm_log = base / "warm" / "prefect" / "warm.log"

    def started(self) -> list[str]:
        """The commands the warm process forked a child for, as it logged them."""
        lines = self.warm_log.read_text().splitlines() if self.warm_log.exists() else []
        return [line for line in lines if line.startswith("started ")]


def crowdscribe(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CROWDSCRIBE), *args], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Homes]:
    homes = Homes(tmp_path_factory.mktemp("warm"))
    up = crowdscribe(homes.warm, "prefect", "up")
    assert up.returncode == 0, up.stderr
    state = json.loads((homes.base / "warm" / "prefect" / "server.json").read_text())
    homes.cold["PREFECT_API_URL"] = state["api_url"]
    try:
        yield homes
    finally:
        down = crowdscribe(homes.warm, "prefect", "down")
        assert down.returncode == 0, down.stderr


def comparable(homes: Homes, result: subprocess.CompletedProcess[str]) -> tuple:
    """Exit code, stdout and stderr without Prefect's log lines (run names, times), with the
    data home's path replaced."""

    def text(output: str) -> str:
        for name in ("warm", "cold"):
            output = output.replace(str(homes.base / name), "HOME")
        return ELAPSED.sub("T", output)

    stderr = "\n".join(
        line for line in result.stderr.splitlines() if not PREFECT_LOG_LINE.match(line)
    )
    return result.returncode, text(result.stdout), text(stderr)


def test_flow_commands_in_the_warm_process_equal_their_own_process(
    homes: Homes, tmp_path: Path
) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    espeak_wav(batch / "lily.wav", "Lily found a blue feather by the river. She kept it in a box.")
    (batch / "letter.wav").write_text("Dear Sir, this is a letter, not a recording.")
    commands = [
        ("projects", "create", "river"),
        ("collect", str(batch), "--language", "en", "--speaker-group", "child")
        + ("--project", "river", "--consent", "form-9"),
        ("dispatch", "--json"),
        ("agree",),
        ("dispatch", "--overlap", "99"),
        ("collect", str(tmp_path / "missing"), "--language", "en", "--speaker-group", "adult"),
        ("clips", "--format", "jsonl"),
    ]
    before = len(homes.started())

    for command in commands:
        warm = crowdscribe(homes.warm, *command)
        cold = crowdscribe(homes.cold, *command)
        assert comparable(homes, warm) == comparable(homes, cold), command

    flow_commands = [command for command in commands if command[0] != "projects"][:-1]
    started = homes.started()[before:]
    assert [line.split(": ", 1)[1].split()[0] for line in started] == [
        command[0] for command in flow_commands
    ]
    clips = [json.loads(line) for line in warm.stdout.splitlines()]
    assert clips and all(clip["project"] == "river" for clip in clips)
    assert "Traceback" not in homes.warm_log.read_text()
    socket_file = homes.base / "warm" / "prefect" / "warm.sock"
    assert socket_file.stat().st_mode & 0o777 == 0o600


def test_a_failing_command_keeps_its_exit_code_and_one_line_error(homes: Homes) -> None:
    result = crowdscribe(homes.warm, "agree", "--no-such-option")

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: No such option: --no-such-option (see `crowdscribe agree --help`)"
    )


def _collect_in_the_warm_process(
    homes: Homes, folder: Path, database: Path
) -> tuple[subprocess.Popen, int]:
    """``collect FOLDER`` handed to the warm home's warm process and left running: the command,
    and the pid of the fork running it. Into its own database, so the warm home's stays as the
    equality test expects in any order."""
    before = len(homes.started())
    run = subprocess.Popen(
        [str(CROWDSCRIBE), "collect", str(folder), "--language", "en", "--speaker-group", "adult"],
        env={**homes.warm, "CROWDSCRIBE_DATABASE_URL": f"sqlite:///{database}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        line = wait_for(lambda: homes.started()[before:], 60, "the child starting")[0]
    except BaseException:
        run.kill()
        run.wait()
        raise
    return run, int(line.split()[1].rstrip(":"))


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM])
def test_a_stopped_command_stops_its_child(
    homes: Homes, tmp_path: Path, stop: signal.Signals
) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    for n, text in enumerate(("The cat sat in the sun.", "Rain fell on the roof.", "A bell rang.")):
        espeak_wav(folder / f"take{n}.wav", text)
    long_recording(folder / "a_long_day.wav", 60)  # submitted first, still running
    database = tmp_path / "stopped.db"
    stored_before = _stored(database)
    run, child = _collect_in_the_warm_process(homes, folder, database)
    try:
        wait_for(lambda: _stored(database) >= stored_before + 3, 120, "the short takes stored")
        assert alive(child) and run.poll() is None, "collect ended before it could be stopped"
        stored_at_stop = _stored(database)
        os.kill(run.pid, stop)
        returncode = run.wait(60)
        wait_for(lambda: not alive(child), 30, "the child stopping")
    finally:
        run.kill()
        run.wait()
    # Killed outright, or collect's own exit code for SIGTERM, as in its own process; what was
    # stored stays.
    assert returncode == (-signal.SIGKILL if stop == signal.SIGKILL else 128 + signal.SIGTERM)
    assert _stored(database) >= stored_at_stop


def _state(pid: int) -> str:
    """The process's state letter (R, S, T for stopped, ...), or "" once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return ""


def test_ctrl_z_stops_the_child_with_the_command_and_continuing_continues_both(
    homes: Homes, tmp_path: Path
) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    long_recording(folder / "a_long_day.wav", 30)
    run, child = _collect_in_the_warm_process(homes, folder, tmp_path / "paused.db")
    try:
        os.kill(run.pid, signal.SIGTSTP)  # as Ctrl-Z sends it
        wait_for(lambda: _state(child) == _state(run.pid) == "T", 30, "both stopping")
        os.kill(run.pid, signal.SIGCONT)  # as fg and bg send it
        wait_for(lambda: "T" not in (_state(child), _state(run.pid)), 30, "both going on")
        assert run.poll() is None and alive(child)
    finally:
        run.kill()
        run.wait()
    wait_for(lambda: not alive(child), 30, "the child stopping with the command")


def test_a_stale_socket_is_passed_by_and_replaced(homes: Homes) -> None:
    status = crowdscribe(homes.warm, "prefect", "status")
    warm_pid = int(re.search(r"warm process: pid (\d+)", status.stdout)[1])
    os.kill(warm_pid, signal.SIGKILL)
    wait_for(lambda: not alive(warm_pid), 10, "the warm process dying")
    assert (homes.base / "warm" / "prefect" / "warm.sock").exists()
    before = len(homes.started())

    agree = crowdscribe(homes.warm, "agree")

    assert agree.returncode == 0, agree.stderr
    assert len(homes.started()) == before
    up = crowdscribe(homes.warm, "prefect", "up")
    assert up.returncode == 0, up.stderr
    assert crowdscribe(homes.warm, "agree").returncode == 0
    assert len(homes.started()) == before + 1


def test_a_ping_answered_and_closed_before_the_send_returns_gets_its_answer() -> None:
    ours, theirs = socket.socketpair()

    class AnsweredAtOnce(socket.socket):
        """The warm process on the other core: it reads, answers and closes between the
        request's send and the return to the command."""

        def sendmsg(self, *args: object) -> int:
            sent = super().sendmsg(*args)
            warm_client.receive_request(theirs)
            theirs.sendall(b"ready 42\n")
            theirs.close()
            return sent

    with AnsweredAtOnce(fileno=ours.detach()) as sock:
        warm_client.send_request(sock, {"kind": "ping"})
        assert warm_client.Replies(sock).next() == "ready 42"


def test_a_warm_process_gone_while_pinged_is_not_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, theirs = socket.socketpair()
    theirs.close()  # it died between accepting and answering
    monkeypatch.setattr(warm_client, "connect", lambda home: ours)

    assert warm_process.running(tmp_path) is None


def test_with_prefect_api_url_up_starts_only_the_warm_process(homes: Homes, tmp_path: Path) -> None:
    attached = tmp_path / "attached"
    env = {**homes.cold, "CROWDSCRIBE_HOME": str(attached)}  # PREFECT_API_URL: the warm home's
    up = crowdscribe(env, "prefect", "up")
    try:
        assert up.returncode == 0, up.stderr
        assert f"Prefect server: {env['PREFECT_API_URL']} (PREFECT_API_URL); none started" in (
            up.stdout
        )
        assert not (attached / "prefect" / "server.json").exists()
        status = crowdscribe(env, "prefect", "status")
        assert status.returncode == 0, status.stderr
        assert f"up: {env['PREFECT_API_URL']} (PREFECT_API_URL)" in status.stdout
        assert "warm process: pid" in status.stdout
        agree = crowdscribe(env, "agree")
        assert agree.returncode == 0, agree.stderr
        log = (attached / "prefect" / "warm.log").read_text()
        assert [line for line in log.splitlines() if line.startswith("started ")]
    finally:
        down = crowdscribe(env, "prefect", "down")
    assert down.returncode == 0, down.stderr
    assert "stopped the warm process" in down.stdout
    assert f"left the Prefect server at {env['PREFECT_API_URL']} (PREFECT_API_URL) running" in (
        down.stdout
    )


def test_up_refuses_a_prefect_api_url_nobody_answers(homes: Homes, tmp_path: Path) -> None:
    env = {
        **homes.cold,
        "CROWDSCRIBE_HOME": str(tmp_path / "nowhere"),
        "PREFECT_API_URL": "http://127.0.0.1:9/api",
    }
    up = crowdscribe(env, "prefect", "up")

    assert up.returncode == 2
    assert up.stderr.strip() == (
        "error: no Prefect server answers at http://127.0.0.1:9/api (PREFECT_API_URL)"
    )
    assert crowdscribe(env, "prefect", "status").returncode == 1


# Runs the script's entry as the `crowdscribe` script does and lists the modules it loaded.
PROBE = """
import sys
sys.argv = ["crowdscribe", "agree"]
from app.cli import warm_client, warm_process
try:
    warm_client.run_if_warm()
except SystemExit as stop:
    print(stop.code, sorted(name.split(".")[0] for name in sys.modules), file=sys.stderr)
"""


def test_the_command_handing_a_flow_over_imports_no_stack(homes: Homes) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], env=homes.warm, capture_output=True, text=True, timeout=120
    )
    code, modules = probe.stderr.strip().splitlines()[-1].split(" ", 1)

    assert code == "0"
    for heavy in ("prefect", "sqlalchemy", "pydantic", "typer", "rich", "crowdscribe"):
        assert f"'{heavy}'" not in modules
