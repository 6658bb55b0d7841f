"""The transfer a request is about, for the log (WT_LOG_FORMAT=json writes it on each line): taken from the request's
path, `/v1/transfers/{transfer_id}/...`, or set where a new transfer gets its id."""

from __future__ import annotations

from contextlib import suppress
from contextvars import ContextVar

from pydantic import TypeAdapter, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from domain.requests import TransferId

TRANSFERS_PATH = "/v1/transfers/"
transfer_id: ContextVar[str | None] = ContextVar("transfer_id", default=None)
_valid_id = TypeAdapter(TransferId)


class TransferInLog:
    """ASGI middleware: the transfer id in the path, when it is one (anything else a caller put there is not
    logged as one)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(TRANSFERS_PATH):
            segment = scope["path"].removeprefix(TRANSFERS_PATH).split("/", 1)[0]
            with suppress(ValidationError):
                transfer_id.set(_valid_id.validate_python(segment))
        await self.app(scope, receive, send)
