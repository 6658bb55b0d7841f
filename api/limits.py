"""A request body over `WT_MAX_REQUEST_BYTES` is refused with 413 before it is read whole: as soon as the app asks
for a byte of it when its Content-Length says it is too large, otherwise (a chunked body) as soon as the bytes
received pass the limit.

The refusal of a declared size waits for the app to read: a route that takes a key checks it before it reads the
body (api.auth.KeyFirstRoute), so a request without a valid key is answered 401, not 413, and nothing of its body
is read either way. A route that never reads the body answers as it would without one.

FastAPI has a `max_body_size` of its own, but a declared size over it is only acted on once the app reads the body
or answers; an answer given without reading (a 401) is then replaced by a plain-text 413. This one refuses in the
API's JSON error shape, and leaves an answer given without reading as it is.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """Raised from `receive()` as the bytes pass the limit (or at its first call, for a declared size over it):
    FastAPI passes an HTTPException from reading the body on to the app's handler, which answers 413 (api.errors)."""

    def __init__(self, limit: int):
        super().__init__(413, f"The request body is larger than the {limit} bytes this API reads.")


class RequestBodyLimit:
    """ASGI middleware (see the module's docstring)."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            async def refused() -> Message:  # not a byte of it is read
                raise BodyTooLarge(self.max_bytes)

            return await self.app(scope, refused, send)
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted, send)
