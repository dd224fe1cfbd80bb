"""Web fixtures: the app served by uvicorn on a free local port, Chromium through Playwright,
and real spoken clips (espeak-ng, from ``tests.builders``) stored as collection would store them."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from app.web.app import create_app
from crowdscribe.settings import Settings
from crowdscribe.storage.db import Database
from tests.builders import add_audio_clip, espeak
from transcribe.pricing import default_rate_card
from transcribe.publishing import publish_clips

ARTIFACTS_DIR = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = "/usr/bin/chromium"
SERVE_START_TIMEOUT_S = 120
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Headless Chromium has no speakers; let <audio> play (and advance) without a gesture check.
    "--autoplay-policy=no-user-gesture-required",
]


@dataclass
class LiveServer:
    """A running app: base ``url``, and the ``database`` and ``settings`` it serves."""

    url: str
    database: Database
    settings: Settings
    pid: int | None = None  # the server process, when served as ``crowdscribe serve`` does


@contextmanager
def serving(settings: Settings, database: Database) -> Iterator[LiveServer]:
    """Serve the app for ``database`` under uvicorn in a background thread on a free port."""
    app = create_app(settings, database)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web app did not start within 15 s")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", database, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def serving_processes(settings: Settings, database: Database, workers: int) -> Iterator[LiveServer]:
    """Serve the app as ``crowdscribe serve --workers N`` does: N processes on one port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "CROWDSCRIBE_HOME": str(settings.home_dir),
        "CROWDSCRIBE_DATABASE_URL": database.url,
        "CROWDSCRIBE_SECRET_KEY": settings.resolved_secret_key,
    }
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    server = subprocess.Popen([*command, "--workers", str(workers)], env=env)
    try:
        # Generous: on a loaded machine importing the app in a new process alone takes seconds.
        deadline = time.monotonic() + SERVE_START_TIMEOUT_S
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(
                        f"crowdscribe serve did not start within {SERVE_START_TIMEOUT_S} s"
                    ) from None
                time.sleep(0.1)
        yield LiveServer(f"http://127.0.0.1:{port}", database, settings, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def serve(settings: Settings) -> Callable[..., AbstractContextManager[LiveServer]]:
    """``with serve(database) as server:`` runs the app on another database (e.g. PostgreSQL);
    ``serve(database, workers=2)`` runs it in worker processes as ``crowdscribe serve`` does."""

    def start(database: Database, workers: int = 0) -> AbstractContextManager[LiveServer]:
        if workers:
            return serving_processes(settings, database, workers)
        return serving(settings, database)

    return start


@pytest.fixture
def client(settings: Settings, sqlite_database: Database) -> Iterator[TestClient]:
    """The app in-process over a fresh SQLite database, through a plain HTTP client."""
    with TestClient(create_app(settings, sqlite_database)) as client:
        yield client


@pytest.fixture
def live_server(settings: Settings, sqlite_database: Database) -> Iterator[LiveServer]:
    """The app under uvicorn in a background thread, on a free 127.0.0.1 port, SQLite in tmp."""
    with serving(settings, sqlite_database) as server:
        yield server


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """One Chromium (Debian's, never a downloaded one) per browser test module. Not per session:
    while Playwright's sync API is open it marks the main thread's event loop as running, and
    Prefect would then hand the flows of later modules' tests a coroutine instead of a result."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium) -> Iterator[object]:
    """A fresh browser context (own cookies) and page; closed after the test."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def artifacts_dir() -> Path:
    """Where browser tests keep their screenshots (gitignored)."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture
def spoken_clips(settings: Settings, sqlite_database: Database) -> Callable[..., list[str]]:
    """Store one recording per text, each one collected clip of espeak-ng speech; returns ids.
    Every factory here writes to the SQLite test database unless given ``database=``."""

    def make(
        texts: list[str],
        language: str = "en",
        project: str = "webtest",
        voice: str = "en",
        database: Database = sqlite_database,
    ) -> list[str]:
        clip_ids = []
        with database.session() as session:
            for text in texts:
                digest = hashlib.sha256(f"{language}:{text}".encode()).hexdigest()
                samples = espeak(text, voice)
                clip_ids.append(
                    add_audio_clip(
                        session, settings, digest[:16], samples, language=language, project=project
                    )
                )
        return clip_ids

    return make


@pytest.fixture
def publish(sqlite_database: Database) -> Callable[..., int]:
    """Publish every collected clip with the given overlap at the default rates."""

    def run(overlap: int = 2, database: Database = sqlite_database) -> int:
        with database.session() as session:
            summary = publish_clips(
                session,
                project=None,
                overlap=overlap,
                card=default_rate_card(),
                now=datetime.now(UTC),
            )
        return summary.published

    return run
