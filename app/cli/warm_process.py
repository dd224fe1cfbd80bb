"""The warm process ``crowdscribe prefect up`` keeps for the data home: Prefect and the whole stack
imported once, then one fork per flow command a ``crowdscribe`` process hands it
(``warm_client``). The child takes the command's arguments, environment, working directory and
terminal, runs it as it would have run there, and its exit status goes back to the command.

It stays single-threaded (a fork keeps only the forking thread), never runs a flow itself (each
child starts from the same fresh Prefect state), and declines a command whose environment would
have set up Prefect differently, or once a loaded source file changed: the command then runs in
its own process. Why and how: docs/deploy.md#warm-process.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from contextlib import suppress
from pathlib import Path
from typing import NoReturn

from app.cli import prefect_server, warm_client

# What a flow command imports, loaded before the first fork.
PRELOAD = (
    "app.cli.commands",
    "app.cli.collect_cmds",
    "app.cli.demo_cmds",
    "app.cli.review_cmds",
    "app.cli.work_cmds",
    "flows.agreement",
    "flows.collect",
    "flows.dispatch",
    "prefect.flow_engine",
    "prefect.task_engine",
    "fastapi.encoders",
)
# Variables read while those imports ran (Prefect's settings and logging, Python, the locale,
# rich's colours): a command with other values runs in its own process.
IMPORT_TIME_PREFIXES = ("PREFECT_", "PYTHON", "LANG", "LC_", "NO_COLOR", "FORCE_COLOR", "TTY_")
STARTUP_TIMEOUT_S = 120.0
LOOK_AROUND_S = 30.0  # how often the loop checks that its socket is still there
# Signals a terminal's keys send to the whole foreground group; kill(1) signals one process.
_FROM_TERMINAL = frozenset({signal.SIGINT, signal.SIGTSTP, signal.SIGCONT})


def running(home: Path) -> int | None:
    """The pid of the home's warm process if it answers."""
    sock = warm_client.connect(str(home))
    if sock is None:
        return None
    with sock:
        try:
            warm_client.send_request(sock, {"kind": "ping"})
            answer = warm_client.Replies(sock).next()
        except OSError:  # it died while answering: as good as not running
            return None
    return int(answer.split()[1]) if answer and answer.startswith("ready ") else None


def start(home: Path) -> int:
    """Start the home's warm process in the background (its output in HOME/prefect/warm.log) and
    return its pid once it answers; a running one is kept."""
    if pid := running(home):
        return pid
    log = prefect_server.server_dir(home) / "warm.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            # Not `-m`: click would name the program after the __main__ module in usage errors.
            [sys.executable, "-c", "import sys, app.cli.warm_process as w; w.main(sys.argv[1])"]
            + [str(home)],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if pid := running(home):
            return pid
        if process.poll() is not None:
            raise RuntimeError(f"the warm process exited with {process.returncode}: see {log}")
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the warm process did not answer in {STARTUP_TIMEOUT_S} s: see {log}")


def stop(home: Path) -> int | None:
    """Stop the home's warm process (commands running in it get SIGTERM); returns its pid. The
    pid comes from the process itself, never from a file a reused pid could make wrong."""
    pid = running(home)
    _socket_path(home).unlink(missing_ok=True)
    if pid is None:
        return None
    _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + prefect_server.STOP_TIMEOUT_S
    while prefect_server.pid_alive(pid) and time.monotonic() < deadline:
        prefect_server.reap(pid)
        time.sleep(0.05)
    if prefect_server.pid_alive(pid):
        _signal(pid, signal.SIGKILL)
    return pid


class _Server:
    """The accept-and-fork loop; children are tracked by pid with the connection they answer."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.environment = _import_time_environment(os.environ)
        self.sources = _loaded_sources()
        self.selector = selectors.DefaultSelector()
        self.children: dict[int, socket.socket] = {}
        self.listener: socket.socket | None = _listen(home)
        self.socket_file = _socket_path(home)
        self.socket_inode = self.socket_file.stat().st_ino
        self.selector.register(self.listener, selectors.EVENT_READ, self._accept)
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        self.wake_fds = (wake_read, wake_write)
        self.selector.register(wake_read, selectors.EVENT_READ, self._on_signals)
        signal.set_wakeup_fd(wake_write)
        for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(number, lambda *_: None)  # handled in the loop, through the wake-up pipe

    def serve(self) -> None:
        print(f"warm process {os.getpid()} ready for {self.home}", flush=True)
        gc.freeze()  # the children share these pages; the collector would write to them all
        while self.listener is not None or self.children:
            for key, _ in self.selector.select(LOOK_AROUND_S):
                key.data(key.fileobj)
            if not self._socket_is_ours():  # the data home or the socket was deleted
                self._stop_listening()

    def _accept(self, listener: socket.socket) -> None:
        conn, _ = listener.accept()
        if warm_client.peer_uid(conn) != os.getuid():
            conn.close()
            return
        conn.settimeout(5)
        try:
            request, fds = warm_client.receive_request(conn)
        except (OSError, ValueError):
            conn.close()
            return
        try:
            self._answer(conn, request, fds)
        except OSError:  # the command went away while asking; a started child is tracked
            conn.close()
        finally:
            for fd in fds:
                os.close(fd)

    def _answer(self, conn: socket.socket, request: dict, fds: list[int]) -> None:
        if request.get("kind") == "ping":
            changed = self._changed_source()
            conn.sendall((f"stale {changed}\n" if changed else f"ready {os.getpid()}\n").encode())
            conn.close()
            return
        if why := self._declined(request, fds):
            print(f"declined {request['argv'][1:]}: {why}", flush=True)
            conn.sendall(f"refused {why}\n".encode())
            conn.close()
            return
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            self._become_child(conn, request, fds)
        with suppress(OSError):  # the child does the same; whichever runs first
            os.setpgid(pid, pid)
        print(f"started {pid}: {' '.join(request['argv'][1:])}", flush=True)
        self.children[pid] = conn
        self.selector.register(conn, selectors.EVENT_READ, lambda c: self._from_client(pid, c))
        with suppress(OSError):  # a command gone already reads as end of file: its child goes
            conn.sendall(f"started {pid}\n".encode())

    def _declined(self, request: dict, fds: list[int]) -> str | None:
        if len(fds) != 3 or request.get("kind") != "run":
            return "not a command with its three standard streams"
        if request.get("executable") != sys.executable:
            return "another Python"
        if _import_time_environment(request["env"]) != self.environment:
            return "the environment sets up Prefect or Python differently"
        if changed := self._changed_source():
            return f"{changed} changed since `crowdscribe prefect up`"
        return None

    def _changed_source(self) -> str | None:
        """A loaded source file that changed since the imports; then this process stops
        listening (a fork would run the old code)."""
        sources = self.sources.items()
        changed = next((path for path, mtime in sources if _mtime(path) != mtime), None)
        if changed:
            self._stop_listening()
        return changed

    def _become_child(self, conn: socket.socket, request: dict, fds: list[int]) -> NoReturn:
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
                signal.signal(number, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self.selector.close()
            for fd in self.wake_fds:
                os.close(fd)
            for each in (self.listener, conn, *self.children.values()):
                if each is not None:
                    each.close()
            os.setpgid(0, 0)
            code = _run_command(request, fds)
        except BaseException:  # noqa: BLE001 - whatever happens, never return to the loop
            traceback.print_exc()
        finally:
            os._exit(code)

    def _from_client(self, pid: int, conn: socket.socket) -> None:
        if pid not in self.children:  # reaped earlier in this same round
            return
        try:
            data = conn.recv(4096)
        except OSError:
            data = b""
        if not data:  # the command was killed outright: so is its child, with its process group
            self.selector.unregister(conn)
            _signal(-pid, signal.SIGKILL)
            return
        for line in data.decode().splitlines():
            number = int(line.removeprefix("signal "))
            if number in _FROM_TERMINAL:
                _signal(-pid, number)
            elif number in warm_client.FORWARDED_SIGNALS:
                _signal(pid, number)

    def _on_signals(self, wake_read: int) -> None:
        try:
            numbers = set(os.read(wake_read, 512))
        except BlockingIOError:
            return
        if signal.SIGTERM in numbers or signal.SIGINT in numbers or signal.SIGHUP in numbers:
            self._stop_listening()
            for pid in self.children:
                _signal(pid, signal.SIGTERM)
        if signal.SIGCHLD in numbers:
            self._reap()

    def _reap(self) -> None:
        while self.children:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
            if pid == 0:
                return
            conn = self.children.pop(pid, None)
            if conn is None:
                continue
            ending = (
                f"signal {os.WTERMSIG(status)}"
                if os.WIFSIGNALED(status)
                else f"exit {os.waitstatus_to_exitcode(status)}"
            )
            cpu_s = usage.ru_utime + usage.ru_stime
            print(f"ended {pid}: {ending}, CPU {cpu_s:.3f} s", flush=True)
            with suppress(OSError):  # the command may be gone
                conn.sendall(f"{ending}\n".encode())
            with suppress(KeyError):  # still registered unless the command went away first
                self.selector.unregister(conn)
            conn.close()

    def _stop_listening(self) -> None:
        """No more commands: the socket goes, running commands finish."""
        if self.listener is None:
            return
        self.selector.unregister(self.listener)
        self.listener.close()
        self.listener = None
        if self._socket_is_ours():
            self.socket_file.unlink()

    def _socket_is_ours(self) -> bool:
        try:
            return self.socket_file.stat().st_ino == self.socket_inode
        except FileNotFoundError:
            return False


def _run_command(request: dict, fds: list[int]) -> int:
    """In the child: become the command (streams, environment, directory, umask, arguments) and
    run it here; returns its exit code."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    os.chdir(request["cwd"])
    os.umask(request["umask"])
    sys.argv = request["argv"]
    from app.cli import commands
    from crowdscribe.settings import get_settings

    get_settings.cache_clear()
    _fit_consoles(commands.err_console)
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=stream.isatty())
    try:
        commands.main()
    except SystemExit as stop:
        return _exit_code(stop)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


def _exit_code(stop: SystemExit) -> int:
    if stop.code is None or isinstance(stop.code, int):
        return stop.code or 0
    print(stop.code, file=sys.stderr)
    return 1


def _fit_consoles(err_console: object) -> None:
    """Rich decides a console's colours and width when it is made, and these were made here, with
    a log file for output: decide again for the command's terminal and COLUMNS/LINES."""
    from prefect.logging.handlers import PrefectConsoleHandler

    from app.cli.output import console

    prefect_consoles = [
        handler.console
        for handler in logging.getLogger().handlers
        if isinstance(handler, PrefectConsoleHandler)
    ]
    for each in (console, err_console, *prefect_consoles):
        columns, lines = os.environ.get("COLUMNS", ""), os.environ.get("LINES", "")
        each._width = int(columns) if columns.isdigit() else None
        each._height = int(lines) if lines.isdigit() else None
        each._color_system = each._detect_color_system()


def _import_time_environment(environ: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    values = {k: v for k, v in environ.items() if k.startswith(IMPORT_TIME_PREFIXES)}
    values.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # as every command sets it
    return values


def _loaded_sources() -> dict[str, int]:
    return {
        path: _mtime(path)
        for module in list(sys.modules.values())
        if (path := getattr(module, "__file__", None))
    }


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def _signal(pid: int, number: int) -> None:
    with suppress(ProcessLookupError):
        if pid < 0:
            os.killpg(-pid, number)
        else:
            os.kill(pid, number)


def _socket_path(home: Path) -> Path:
    return prefect_server.server_dir(home) / warm_client.SOCKET_NAME


def _listen(home: Path) -> socket.socket:
    """Listen on HOME/prefect/warm.sock, mode 0600; a stale socket left by a killed warm process
    is replaced, a live one refused."""
    if live := warm_client.connect(str(home)):
        live.close()
        raise RuntimeError(f"a warm process already listens at {_socket_path(home)}")
    _socket_path(home).unlink(missing_ok=True)
    folder_fd = os.open(prefect_server.server_dir(home), os.O_PATH | os.O_DIRECTORY)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous_mask = os.umask(0o177)
    try:
        listener.bind(warm_client.socket_address(folder_fd))
    finally:
        os.umask(previous_mask)
        os.close(folder_fd)
    listener.listen(16)
    return listener


def main(home: str) -> None:
    """Import the stack, check nothing started a thread, then serve ``home`` until SIGTERM."""
    prefect_server.quiet_prefect_defaults()
    for name in PRELOAD:
        importlib.import_module(name)
    if threading.active_count() > 1:
        raise RuntimeError(f"importing the stack started threads: {threading.enumerate()}")
    _Server(Path(home)).serve()
