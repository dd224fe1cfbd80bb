"""Serving the web app from one process per core, each with its own listening socket.

uvicorn's own ``--workers`` shares one socket among the processes, and whichever wakes first
accepts every connection waiting: 50 transcribers connecting at once then pile onto one process
(41 of 50 on one, 9 on the other, seen here) and stay there. With ``SO_REUSEPORT`` every
process listens on the port itself and the kernel spreads new connections across them at
random; ``app.web.recycling`` re-spreads long-lived ones from time to time.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import signal
import socket

import uvicorn

APP = "app.web.app:create_app"
BACKLOG = 2048
STOP_WAIT_S = 15.0


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
    """Run ``workers`` server processes until interrupted (or one of them dies); exit status."""
    if workers == 1:
        _serve_one(host, port, access_log)
        return 0
    # Bound here first, so a port already taken is reported once, before any worker starts.
    listening_socket(host, port).close()
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
