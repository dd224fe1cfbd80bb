"""Asking keep-alive clients to reconnect now and then, so server processes share the load.

With several server processes on one listening socket, a new connection goes to whichever
process is free to accept it first. Connections then stay put: when 50 transcribers connect in
the same instant, one process may keep 41 of them and run flat out while the other idles (seen
here). Closing a random one response in ``RECYCLE_EVERY`` (``Connection: close``, as nginx and
Apache do after a number of requests) makes each client reconnect from time to time, and the
less busy process is the one that picks it up. A client pays one local TCP handshake for it.
"""

from __future__ import annotations

import random

from starlette.types import ASGIApp, Message, Receive, Scope, Send

RECYCLE_EVERY = 100
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
