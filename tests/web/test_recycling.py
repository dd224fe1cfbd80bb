"""Keep-alive connections are closed now and then, so several server processes share the load."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.web.recycling import RecycleConnections


async def hello(_request) -> JSONResponse:
    return JSONResponse({"hello": "there"}, status_code=201, headers={"x-kept": "yes"})


def _app(every: int) -> RecycleConnections:
    return RecycleConnections(Starlette(routes=[Route("/", hello, methods=["POST"])]), every)


def _serve(app) -> tuple[uvicorn.Server, threading.Thread, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    return server, thread, sock.getsockname()[1]


def _exchange(connection: socket.socket, requests: int) -> tuple[list[bytes], bool]:
    """Send ``requests`` keep-alive POSTs one after another; the heads read back, and whether
    the server then closed the connection."""
    heads = []
    for _ in range(requests):
        connection.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data or not data.endswith(b"}"):
            chunk = connection.recv(4096)
            if not chunk:
                return heads, True
            data += chunk
        heads.append(data.split(b"\r\n\r\n")[0].lower())
        if b"connection: close" in heads[-1]:
            connection.settimeout(5)
            return heads, connection.recv(1) == b""
    return heads, False


def test_a_recycled_response_is_whole_and_the_server_then_closes_the_connection():
    server, thread, port = _serve(_app(every=1))
    try:
        with socket.create_connection(("127.0.0.1", port)) as connection:
            heads, closed = _exchange(connection, 3)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert len(heads) == 1 and closed
    assert heads[0].startswith(b"http/1.1 201") and b"x-kept: yes" in heads[0]


def test_most_requests_keep_their_connection():
    server, thread, port = _serve(_app(every=1_000_000))
    try:
        with socket.create_connection(("127.0.0.1", port)) as connection:
            heads, closed = _exchange(connection, 50)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert len(heads) == 50 and not closed
    assert not any(b"connection: close" in head for head in heads)
