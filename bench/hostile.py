"""What a hostile request costs everyone else on the same server process.

One ``crowdscribe serve --workers 1`` process on SQLite; a steady stream of ordinary requests
(``GET /api/v1/me`` and the conventions check of a normal transcript, as a transcriber's page
makes them) is timed first alone, then while an attacker with a valid token sends, as fast as
one connection allows, each kind of hostile request in turn: the longest transcript the server
takes, made of characters that each break a convention; the same over the limit; a '[' and
spaces (once a minute of regex backtracking); a 50 MB body;
text with NUL and lone surrogates. Prints the ordinary requests' median, p99 and worst latency
in each case, and what the attacker was answered. The aim: a hostile request costs the others
under 50 ms. Usage:
    .venv/bin/python bench/hostile.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crowdscribe.settings import Settings  # noqa: E402
from crowdscribe.storage.db import open_database  # noqa: E402
from transcribe.limits import MAX_TEXT_CHARS  # noqa: E402
from transcribe.users import create_user  # noqa: E402

NORMAL_TEXT = "so um we went to the the zoo and [laugh] saw a big- a big elephant"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _attacks() -> dict[str, tuple[str, bytes, str]]:
    """Name -> (path, body, content type)."""
    worst_valid = '{"language": "en", "text": "' + "<" * MAX_TEXT_CHARS + '"}'
    over_limit = '{"language": "en", "text": "' + "<" * (MAX_TEXT_CHARS + 1) + '"}'
    return {
        f"{MAX_TEXT_CHARS:,} bad characters": (
            "/api/v1/conventions/check",
            worst_valid.encode(),
            "json",
        ),
        "one character over the limit": ("/api/v1/conventions/check", over_limit.encode(), "json"),
        # Took a minute of regex backtracking before the tag-folding pattern was fixed.
        f"'[' and {MAX_TEXT_CHARS - 1:,} spaces": (
            "/api/v1/conventions/check",
            ('{"language": "en", "text": "[' + " " * (MAX_TEXT_CHARS - 1) + '"}').encode(),
            "json",
        ),
        "50 MB body": ("/api/v1/conventions/check", b"{" + b" " * 50_000_000 + b"}", "json"),
        "NUL and lone surrogates": (
            "/api/v1/conventions/check",
            b'{"language": "en", "text": "a\\u0000b\\ud800' + b"x" * 1000 + b'"}',
            "json",
        ),
    }


def _ordinary(client: httpx.Client, stop: threading.Event, latencies: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        client.get("/api/v1/me").raise_for_status()
        client.post(
            "/api/v1/conventions/check", json={"text": NORMAL_TEXT, "language": "en"}
        ).raise_for_status()
        latencies.append((time.perf_counter() - started) * 1000 / 2)
        time.sleep(0.005)


def _attack(client: httpx.Client, stop: threading.Event, request: tuple, answers: Counter) -> None:
    path, body, kind = request
    headers = {"Content-Type": f"application/{kind}"}
    while not stop.is_set():
        try:
            answers[client.post(path, content=body, headers=headers).status_code] += 1
        except httpx.HTTPError as error:
            answers[type(error).__name__] += 1


def _measure(url: str, token: str, seconds: float, attack: tuple | None) -> tuple[list, Counter]:
    latencies: list[float] = []
    answers: Counter = Counter()
    stop = threading.Event()
    auth = {"Authorization": f"Bearer {token}"}
    with (
        httpx.Client(base_url=url, headers=auth, timeout=60) as ordinary,
        httpx.Client(base_url=url, headers=auth, timeout=60) as attacker,
    ):
        threads = [threading.Thread(target=_ordinary, args=(ordinary, stop, latencies))]
        if attack is not None:
            threads.append(threading.Thread(target=_attack, args=(attacker, stop, attack, answers)))
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        stop.set()
        for thread in threads:
            thread.join()
    return latencies, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(home=Path(scratch) / "home", secret_key="bench")
        database = open_database(settings.resolved_database_url)
        with database.session() as session:
            _, token = create_user(session, "ana", ("transcriber",), ("en",), qualified=("en",))
        database.dispose()
        port = _free_port()
        env = {
            **os.environ,
            "CROWDSCRIBE_HOME": str(settings.home),
            "CROWDSCRIBE_SECRET_KEY": "bench",
        }
        command = [sys.executable, "-m", "app.cli", "serve", "--workers", "1", "--port", str(port)]
        server = subprocess.Popen([*command, "--no-access-log"], env=env, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.2)
            print(
                f"one server process, SQLite; ordinary requests timed for {args.seconds:.0f} s each"
            )
            header = f"{'while the attacker sends':<34} {'median':>8} {'p99':>8} {'worst':>8}"
            print(f"{header}  attacker got")
            cases = {"(nothing: baseline)": None, **_attacks()}
            for name, attack in cases.items():
                latencies, answers = _measure(url, token, args.seconds, attack)
                p99 = statistics.quantiles(latencies, n=100, method="inclusive")[98]
                got = ", ".join(f"{count}x {status}" for status, count in answers.most_common())
                print(
                    f"{name:<34} {statistics.median(latencies):7.1f}ms {p99:7.1f}ms "
                    f"{max(latencies):7.1f}ms  {got or '-'}"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
