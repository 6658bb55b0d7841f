"""A request body over `WT_MAX_REQUEST_BYTES` is refused with 413 before it is read whole: at once when its
Content-Length says so, otherwise (a chunked body) as soon as the bytes received pass the limit.

FastAPI has a `max_body_size` of its own, but a declared size over it is only acted on once the app reads the body
or answers; an answer given without reading (a 401) is then replaced by a plain-text 413. This one answers at once,
in the API's JSON error shape.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body


class BodyTooLarge(HTTPException):
    """Raised from `receive()` as the bytes pass the limit: FastAPI passes an HTTPException from reading the body on
    to the app's handler, which answers 413 (api.errors)."""

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
            refusal = BodyTooLarge(self.max_bytes)
            response = JSONResponse(error_body("too_large", refusal.detail), status_code=refusal.status_code)
            return await response(scope, receive, send)
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
