"""How the command behaves when people get it wrong: one line, exit 2, nothing stored; a second
server refused; the demo says how to get tokens again."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.cli import demo_cmds
from crowdscribe.settings import Settings
from crowdscribe.storage.db import open_database
from tests.commands import crowdscribe as run
from transcribe.people import inactive_names
from transcribe.users import list_people

CROWDSCRIBE = Path(sys.executable).parent / "crowdscribe"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "CROWDSCRIBE_HOME": str(tmp_path / "home"), "COLUMNS": "200"}


def spawn(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The script in a process of its own: for what needs one (a server, a port, a pid)."""
    return subprocess.run(
        [str(CROWDSCRIBE), *args], env=env, capture_output=True, text=True, timeout=120
    )


def _people(env: dict[str, str]) -> list[str]:
    database = open_database(Settings(home=Path(env["CROWDSCRIBE_HOME"])).resolved_database_url)
    with database.session() as session:
        names = [person.name for person, _ in list_people(session)]
        assert inactive_names(session) <= set(names)
    database.dispose()
    return names


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("users", "add"), "Missing argument 'NAME'"),
        (("dispatch", "--overlap", "x"), "Invalid value for '--overlap'"),
        (("users", "add", "bo", "--role", "transcriber", "--languages", "Cantonese"),
         "did you mean yue (Cantonese)?"),
        (("users", "add", "bo", "--role", "transcriber", "--languages", "eng"),
         "did you mean en (English)?"),
        (("users", "nosuch"), "No such command 'nosuch'"),
        (("dispatch", "--overlap", "0"), "overlap must be between 1 and 3, not 0"),
        (("dispatch", "--project", "nowhere"), "no project named 'nowhere'"),
        (("users", "edit", "nobody", "--time-zone", "UTC"), "no person named 'nobody'"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line_exit_2_and_store_nothing(
    env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    started = time.monotonic()
    result = run(env, *args)
    assert result.returncode == 2, result.stderr
    assert message.lower() in result.stderr.lower()
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 60  # refused before Prefect, not after it starts
    assert _people(env) == []


def test_a_deactivated_person_is_marked_in_the_list(env: dict[str, str]) -> None:
    assert (
        run(env, "users", "add", "ann", "--role", "transcriber", "--languages", "yue").returncode
        == 0
    )
    assert run(env, "users", "deactivate", "ann").returncode == 0
    listed = run(env, "users", "list")
    assert "ann (deactivated)" in listed.stdout
    again = run(env, "users", "deactivate", "ann")
    assert again.returncode == 2 and "already deactivated" in again.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_second_server_on_the_port_or_the_home_is_refused(
    env: dict[str, str], tmp_path: Path
) -> None:
    port = _free_port()
    first = subprocess.Popen(
        [str(CROWDSCRIBE), "serve", "--port", str(port), "--workers", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert f"serving http://127.0.0.1:{port}" in first.stdout.readline()
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline and first.poll() is None
                time.sleep(0.2)
        other_home = {**env, "CROWDSCRIBE_HOME": str(tmp_path / "other")}
        same_port = spawn(other_home, "serve", "--port", str(port), "--workers", "2")
        assert same_port.returncode == 2
        assert f"port {port} on 127.0.0.1 is already in use by pid {first.pid}" in same_port.stderr
        same_home = spawn(env, "serve", "--port", str(_free_port()), "--workers", "1")
        assert same_home.returncode == 2
        assert f"already served (pid {first.pid} at http://127.0.0.1:{port})" in same_home.stderr
    finally:
        first.terminate()
        first.wait(timeout=30)


def test_demo_run_again_says_how_to_get_a_token(home: Path) -> None:
    first = demo_cmds._ensure_people(["en"])
    again = demo_cmds._ensure_people(["en"])
    assert all(len(row["login token"]) > 30 for row in first)
    assert [row["login token"] for row in again] == [
        f"created earlier: crowdscribe users reset-token {name}"
        for name, _ in demo_cmds.DEMO_PEOPLE
    ]


def test_unknown_codes_in_rate_cards_and_policy_files_are_one_line_exit_2(
    env: dict[str, str], tmp_path: Path
) -> None:
    cantonese = tmp_path / "rates.toml"
    cantonese.write_text(
        'currency = "CNY"\n[default]\namount = 1\n[[rates]]\nlanguage = "Cantonese"\namount = 2\n',
        encoding="utf-8",
    )
    typo = tmp_path / "policy.toml"
    typo.write_text('[escalation]\nrule = "reveiw"\n', encoding="utf-8")
    attempts = [
        (env, ("projects", "create", "market", "--rates-file", str(cantonese)),
         "did you mean yue (Cantonese)?"),
        (env, ("projects", "create", "market", "--policy-file", str(typo)),
         "did you mean review?"),
        ({**env, "CROWDSCRIBE_RATES_FILE": str(cantonese)}, ("rates",),
         "[[rates]] entry 1: unknown language 'Cantonese'"),
        (env, ("earnings", "anna"), "no person named 'anna'"),
    ]  # fmt: skip
    for where, args, message in attempts:
        result = run(where, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert run(env, "projects", "list", "--format", "json").stdout.strip() == "[]"
