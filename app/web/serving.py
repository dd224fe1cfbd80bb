"""Serving the web app from one process per core under uvicorn's supervisor, each process on a
listening socket of its own.

uvicorn's own ``--workers`` shares one socket among the processes, and whichever wakes first
accepts every connection waiting: 50 transcribers connecting at once then pile onto one process
(41 of 50 on one, 9 on the other, seen here) and stay there. With ``SO_REUSEPORT`` the kernel
spreads new connections across one socket per worker slot; ``app.web.recycling`` re-spreads
long-lived ones from time to time. uvicorn's ``Multiprocess`` supervisor replaces a worker that
dies (its slot's socket stays open in the parent, so connections wait in its backlog for the
replacement instead of being refused) and drains requests in flight on SIGINT/SIGTERM.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from pathlib import Path
from typing import IO

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

from crowdscribe.errors import Conflict

APP = "app.web.app:create_app"
BACKLOG = 2048
# Requests in flight get this long to finish after SIGTERM before their connections are closed.
GRACEFUL_SHUTDOWN_S = 15
# A worker that does not answer the supervisor's ping for this long is replaced.
HEALTHCHECK_TIMEOUT_S = 10


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
    """A TCP socket listening on ``host:port`` that other sockets of this server may share."""
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


class SlotSockets(Multiprocess):
    """uvicorn's supervisor, handing each worker slot its own socket instead of one for all.

    ``Multiprocess`` starts and restarts workers with ``Process(config, self.sockets)``; here
    ``sockets`` answers with the socket of the slot being filled: the first slot whose worker
    has exited, else the next new one (at start-up), else (a SIGHUP rolling restart, while the
    old worker still serves) round robin.
    """

    def __init__(self, config: uvicorn.Config, slot_sockets: list[socket.socket]) -> None:
        self._slot_sockets = slot_sockets
        self._next_rolling = 0
        super().__init__(config, sockets=[])

    @property
    def sockets(self) -> list[socket.socket]:
        for slot, process in enumerate(self.processes):
            if process.exitcode is not None:
                return [self._slot_sockets[slot]]
        if len(self.processes) < len(self._slot_sockets):
            return [self._slot_sockets[len(self.processes)]]
        self._next_rolling = (self._next_rolling + 1) % len(self._slot_sockets)
        return [self._slot_sockets[self._next_rolling]]

    @sockets.setter
    def sockets(self, _value: list[socket.socket]) -> None:
        """``Multiprocess.__init__`` assigns the shared list; the slots replace it."""


def server_config(host: str, port: int, workers: int, access_log: bool) -> uvicorn.Config:
    """How every server process runs the app."""
    return uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        backlog=BACKLOG,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        timeout_worker_healthcheck=HEALTHCHECK_TIMEOUT_S,
    )


def serve(host: str, port: int, workers: int, access_log: bool = True) -> int:
    """Serve until SIGINT/SIGTERM with ``workers`` supervised processes; the exit status."""
    config = server_config(host, port, workers, access_log)
    slot_sockets = [listening_socket(host, port) for _ in range(workers)]
    try:
        if workers == 1:
            server = uvicorn.Server(config)
            server.run(sockets=slot_sockets)
            return 0 if server.started else 1
        SlotSockets(config, slot_sockets).run()
        return 0
    finally:
        for sock in slot_sockets:
            sock.close()
