"""Hand a flow command to the data home's warm process (``warm_process``) and leave with its exit
code. This runs first in every ``crowdscribe`` command, so it imports only small standard modules:
the whole point is not to import Prefect here (docs/deploy.md#warm-process)."""

from __future__ import annotations

import array
import json
import os
import signal
import socket
import struct
import sys
from contextlib import suppress

FLOW_COMMANDS = frozenset({"collect", "dispatch", "agree", "demo"})
SOCKET_NAME = "warm.sock"
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGTSTP)
_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid
_LENGTH = struct.Struct("!I")


def home_dir(environ: dict[str, str] | os._Environ[str]) -> str:
    """The data home as ``crowdscribe.settings`` resolves it (CROWDSCRIBE_HOME in any case, else
    ./crowdscribe-data), without importing the settings."""
    value = next(
        (value for key, value in environ.items() if key.upper() == "CROWDSCRIBE_HOME"),
        "crowdscribe-data",
    )
    return os.path.realpath(os.path.expanduser(value))


def socket_address(folder_fd: int) -> str:
    """The socket's path through an open descriptor of its folder: short enough for AF_UNIX's
    108 bytes wherever the data home is."""
    return f"/proc/self/fd/{folder_fd}/{SOCKET_NAME}"


def peer_uid(sock: socket.socket) -> int:
    """The user id of the process at the other end (SO_PEERCRED)."""
    return _CREDENTIALS.unpack(
        sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CREDENTIALS.size)
    )[1]


def connect(home: str) -> socket.socket | None:
    """A connection to the home's warm process if one listens and runs as this user."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    try:
        folder_fd = os.open(os.path.join(home, "prefect"), os.O_PATH | os.O_DIRECTORY)
    except OSError:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(socket_address(folder_fd))
        if peer_uid(sock) == os.getuid():
            return sock
    except OSError:
        pass  # no socket, or a stale one nobody listens on
    finally:
        os.close(folder_fd)
    sock.close()
    return None


def send_request(sock: socket.socket, request: dict, fds: tuple[int, ...] = ()) -> None:
    """One length-prefixed JSON request, with ``fds`` passed along (SCM_RIGHTS)."""
    body = json.dumps(request).encode()
    data = _LENGTH.pack(len(body)) + body
    rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    sent = sock.sendmsg([data], rights)
    # Not an empty sendall: once the warm process has answered and closed, it raises EPIPE.
    if sent < len(data):
        sock.sendall(data[sent:])


def receive_request(sock: socket.socket) -> tuple[dict, list[int]]:
    """The request ``send_request`` sent, and the descriptors that came with it."""
    fds = array.array("i")
    data, ancillary, _flags, _address = sock.recvmsg(65536, socket.CMSG_SPACE(3 * fds.itemsize))
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    while len(data) < _LENGTH.size or len(data) < _LENGTH.size + _LENGTH.unpack_from(data)[0]:
        more = sock.recv(65536)
        if not more:
            raise ConnectionError("the request was cut short")
        data += more
    length = _LENGTH.unpack_from(data)[0]
    return json.loads(data[_LENGTH.size : _LENGTH.size + length]), list(fds)


class Replies:
    """The warm process's answers, one line each: ``started PID``, ``refused WHY``, ``ready``,
    then ``exit CODE`` or ``signal NUMBER``."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""

    def next(self) -> str | None:
        """The next line, or None once the warm process closed the connection."""
        while b"\n" not in self._buffer:
            data = self._sock.recv(4096)
            if not data:
                return None
            self._buffer += data
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()


def run_if_warm() -> None:
    """Run a flow command in a fork of the home's warm process and exit with its code; return
    (to run it here, as without a warm process) if there is none or it declines the command."""
    if len(sys.argv) < 2 or sys.argv[1] not in FLOW_COMMANDS:
        return
    sock = connect(home_dir(os.environ))
    if sock is None:
        return
    pending: list[int] = []
    previous = {number: signal.getsignal(number) for number in FORWARDED_SIGNALS}
    for number in FORWARDED_SIGNALS:
        signal.signal(number, lambda number, _frame: _forward(sock, number, pending))
    replies = Replies(sock)
    try:
        send_request(sock, _request(), (0, 1, 2))
        started = replies.next()
    except OSError:
        started = None
    if started is None or not started.startswith("started "):
        sock.close()
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in pending:  # signals that came while asking: they are this process's now
            signal.raise_signal(number)
        return
    _leave_as_child(replies.next())


def _request() -> dict:
    mask = os.umask(0)
    os.umask(mask)
    return {
        "kind": "run",
        "argv": sys.argv,
        "env": dict(os.environ),
        "cwd": os.getcwd(),
        "umask": mask,
        "executable": sys.executable,
    }


def _forward(sock: socket.socket, number: int, pending: list[int]) -> None:
    with suppress(OSError):  # the warm process is gone; its answer (or none) says how it ended
        sock.sendall(f"signal {number}\n".encode())
    if number != signal.SIGTSTP:
        pending.append(number)
        return
    # Ctrl-Z: the command stops with its fork, and both go on together (fg, bg).
    os.kill(os.getpid(), signal.SIGSTOP)
    with suppress(OSError):
        sock.sendall(f"signal {signal.SIGCONT}\n".encode())


def _leave_as_child(ending: str | None) -> None:
    """Exit as the child did: with its code, or killed by the same signal."""
    kind, _, value = (ending or "").partition(" ")
    if kind == "exit":
        sys.exit(int(value))
    if kind == "signal":
        signal.signal(int(value), signal.SIG_DFL)
        signal.raise_signal(int(value))
        sys.exit(128 + int(value))
    sys.stderr.write("crowdscribe: the warm process stopped before the command ended\n")
    sys.exit(1)
