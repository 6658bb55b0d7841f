"""ASGI middleware: the headers every answer carries unless its route set its own.

No page of ours may be framed by another site (clickjacking: the API docs, where an admin pastes a key, had no such
header), no browser guesses a type other than the one sent, no address leaks in a Referer, and no answer under the
API (keys, prospects' details, calendar feeds) is kept by a browser or a proxy's cache."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

EVERY_ANSWER = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",  # a page with a policy of its own says so there too
}
UNCACHED_PATHS = ("/v1/", "/codec")


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        uncached = scope["path"].startswith(UNCACHED_PATHS)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in EVERY_ANSWER.items():
                    headers.setdefault(name, value)
                if uncached:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, with_headers)
