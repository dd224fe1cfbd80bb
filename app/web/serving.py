"""Serving the web app from one process per core, each with its own listening socket.

uvicorn's own ``--workers`` shares one socket among the processes, and whichever wakes first
accepts every connection waiting: 50 transcribers connecting at once then pile onto one process
(41 of 50 on one, 9 on the other, seen here) and stay there. With ``SO_REUSEPORT`` every
process listens on the port itself and the kernel spreads new connections across them at
random; ``app.web.recycling`` re-spreads long-lived ones from time to time.
"""

from __future__ import annotations

import errno
import fcntl
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
from pathlib import Path
from typing import IO

import uvicorn

from crowdscribe.errors import Conflict

APP = "app.web.app:create_app"
BACKLOG = 2048
STOP_WAIT_S = 15.0


class PortTaken(Conflict):
    """Something already listens on the port (a second server would silently share it)."""


class HomeServed(Conflict):
    """Another ``crowdscribe serve`` already serves this data home."""


def check_port_free(host: str, port: int) -> None:
    """Refuse a port something already listens on, saying which process when /proc tells.

    The probe binds *without* SO_REUSEPORT: with it, a second server would join the port and
    the kernel would split requests between the two (and their data homes)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise PortTaken(f"cannot listen on {host}:{port}: {error.strerror}") from None
            owner = port_owner(port)
            by = f" by {owner}" if owner else ""
            raise PortTaken(
                f"port {port} on {host} is already in use{by}; stop it or pick --port"
            ) from None


def port_owner(port: int) -> str | None:
    """``pid N (command line)`` of the process listening on TCP ``port``, if /proc shows it."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{inode}]")
    for pid in filter(str.isdigit, os.listdir("/proc")) if inodes else ():
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in inodes for fd in fds):
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                return f"pid {pid} ({command.decode(errors='replace').strip()[:120]})"
        except OSError:
            continue
    return None


def lock_home(home: Path, url: str) -> IO[str]:
    """Hold ``<home>/serve.lock`` while serving: one data home, one server. The lock goes with
    the process (however it ends); the file says who holds it. Keep the returned file open."""
    handle = (home / "serve.lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise HomeServed(
            f"data home {home} is already served ({holder}); one server per data home"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} at {url}\n")
    handle.flush()
    return handle


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host:port`` that other processes may listen on as well."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise SystemExit(f"cannot listen on {host}:{port}: {error.strerror}") from error
    sock.listen(BACKLOG)
    return sock


def _serve_one(host: str, port: int, access_log: bool) -> None:
    """One server process: its own socket on the shared port, one event loop."""
    sock = listening_socket(host, port)
    config = uvicorn.Config(APP, factory=True, host=host, port=port, access_log=access_log)
    uvicorn.Server(config).run(sockets=[sock])


def serve(host: str, port: int, workers: int, access_log: bool = True) -> int:
    """Run ``workers`` server processes until interrupted (or one of them dies); exit status.
    Call ``check_port_free`` first: the workers' sockets share the port on purpose."""
    if workers == 1:
        _serve_one(host, port, access_log)
        return 0
    spawn = multiprocessing.get_context("spawn")
    processes = [
        spawn.Process(target=_serve_one, args=(host, port, access_log)) for _ in range(workers)
    ]
    stopping = False

    def stop(_signal: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for process in processes:
            process.start()
        sentinels = [process.sentinel for process in processes]
        while not stopping and not any(process.exitcode is not None for process in processes):
            multiprocessing.connection.wait(sentinels, timeout=0.5)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes requests in flight, then exits
        for process in processes:
            process.join(STOP_WAIT_S)
            if process.is_alive():
                process.kill()
                process.join()
    return 0 if stopping else 1
