"""The codec server: lets people who may see prospects' personal data read transfers in the Temporal UI (or the
`temporal` CLI's --codec-endpoint) by decrypting payloads here, where the key ring is.

Only admins: by `Authorization: Bearer <admin key>` (the CLI's --codec-auth), or from a browser by the session
cookie `POST /codec/session` sets (the Temporal UI sends it when its Codec Server setting "include cross-origin
credentials" is on). Browsers may call it only from the Temporal UIs in WT_CODEC_ORIGINS.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from google.protobuf import json_format
from pydantic import BaseModel
from temporalio.api.common.v1 import Payloads

from api.auth import KeyFirstRoute
from api.deps import Services, Transfers
from api.errors import ApiError, error_responses
from api.threads import blocking
from api.transfer_client import TransferClient

SESSION_COOKIE = "wt_codec_session"
SESSION_SECONDS = 8 * 3600
PAGE_DIR = Path(__file__).resolve().parent.parent / "codec"
_PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'", "Cache-Control": "no-cache"}
_bearer = HTTPBearer(auto_error=False, description="An admin key: `Authorization: Bearer <key>`")


class PayloadsBody(BaseModel):
    """Temporal's `Payloads` in its JSON form, as the Temporal UI and CLI send and expect them."""

    payloads: list[dict] = []


async def _admin(request: Request, services: Services,
                 credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    if getattr(request.state, "codec_admin", False):  # checked already, before the body was read
        return
    key = credentials.credentials if credentials else request.cookies.get(SESSION_COOKIE)
    if not key:
        raise ApiError(401, "unauthorized", "Send an admin key as 'Authorization: Bearer <key>', or sign in at "
                       "/codec first.")
    who = services.keys.remembered(key) or await blocking(services.keys.resolve, key)
    if who is None:  # no valid key: 401, as everywhere in the API; 403 is for a valid key of another role
        raise ApiError(401, "unauthorized", "Unknown or revoked API key: send an admin key as 'Authorization: Bearer "
                       "<key>', or sign in at /codec again.")
    if who.role != "admin":
        raise ApiError(403, "forbidden", "Only an admin key may read or write transfers' payloads.")
    request.state.codec_admin = True


class AdminFirstRoute(KeyFirstRoute):
    """A /codec route that checks the admin key or session cookie before the request's body is read (see
    KeyFirstRoute): a request without either is answered 401 without a byte of its body read."""

    async def check_key(self, request: Request) -> None:
        await _admin(request, request.app.state.services, await _bearer(request))


router = APIRouter(prefix="/codec", tags=["ops"], route_class=AdminFirstRoute)
Admin = Annotated[None, Depends(_admin)]
ADMIN_ONLY = error_responses(401, 403)
TRANSCODE = error_responses(401, 403, 413, 422)


class CodecCors:
    """ASGI middleware: the Temporal UIs in WT_CODEC_ORIGINS may call /codec from the browser, with its session
    cookie, and read every answer, refusals included (so the UI can say why)."""

    def __init__(self, app, origins: frozenset[str]):  # app: the ASGI app it wraps
        self.app, self.origins = app, origins

    async def __call__(self, scope, receive, send):  # ASGI
        origin = dict(scope.get("headers", [])).get(b"origin", b"").decode() if scope["type"] == "http" else ""
        if not scope.get("path", "").startswith("/codec/") or origin not in self.origins:
            return await self.app(scope, receive, send)
        allowed = [(b"access-control-allow-origin", origin.encode()), (b"access-control-allow-credentials", b"true"),
                   (b"vary", b"Origin")]
        if scope["method"] == "OPTIONS":  # the preflight of a JSON POST
            await send({"type": "http.response.start", "status": 204, "headers": [
                *allowed, (b"access-control-allow-methods", b"POST"), (b"access-control-max-age", b"600"),
                (b"access-control-allow-headers", b"authorization, content-type, x-namespace")]})
            return await send({"type": "http.response.body", "body": b""})

        async def with_cors(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *allowed]}
            await send(message)

        await self.app(scope, receive, with_cors)


@router.post("/encode", response_model=PayloadsBody, responses=TRANSCODE, summary="Encrypt Temporal payloads (admins)")
async def encode(body: PayloadsBody, transfers: Transfers, _: Admin) -> PayloadsBody:
    return await _transcode("encode", body, transfers)


@router.post("/decode", response_model=PayloadsBody, responses=TRANSCODE, summary="Decrypt Temporal payloads (admins)")
async def decode(body: PayloadsBody, transfers: Transfers, _: Admin) -> PayloadsBody:
    return await _transcode("decode", body, transfers)


async def _transcode(operation: Literal["encode", "decode"], body: PayloadsBody,
                     transfers: TransferClient) -> PayloadsBody:
    _refuse_what_is_not_base64(body.payloads)
    try:
        payloads = list(json_format.ParseDict({"payloads": body.payloads}, Payloads()).payloads)
    except json_format.ParseError as err:
        raise ApiError(422, "invalid_request", f"payloads: not Temporal payloads ({err})") from None
    codec = transfers.client.data_converter.payload_codec
    if codec is not None:
        try:
            payloads = await (codec.encode(payloads) if operation == "encode" else codec.decode(payloads))
        except ValueError as err:  # a payload under a key this ring does not have, or altered
            raise ApiError(422, "invalid_request", f"payloads: {err}") from None
    return PayloadsBody(payloads=[json_format.MessageToDict(payload) for payload in payloads])


_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}|[A-Za-z0-9_-]*={0,2}")  # protobuf's JSON takes either alphabet


def _refuse_what_is_not_base64(payloads: list[dict]) -> None:
    """422 naming every `data` and metadata value that is not base64. Protobuf's JSON parser skips the characters
    outside the alphabet: "!!!" would be read as no bytes at all, and answered as an empty payload."""
    problems = []
    for index, payload in enumerate(payloads):
        metadata = payload.get("metadata")
        values = {f"metadata.{name}": value for name, value in metadata.items()} if isinstance(metadata, dict) else {}
        for name, value in {**({"data": payload["data"]} if "data" in payload else {}), **values}.items():
            if isinstance(value, str) and not _is_base64(value):  # not a string: the parser refuses it (422)
                problems.append({"field": f"payloads.{index}.{name}", "problem": "not valid base64",
                                 "type": "base64"})
    if problems:
        raise ApiError(422, "invalid_request", f"{problems[0]['field']}: not valid base64", problems)


def _is_base64(value: str) -> bool:
    if not _BASE64.fullmatch(value):
        return False
    try:
        base64.b64decode(value.translate(_URLSAFE) + "=" * (-len(value) % 4), validate=True)
    except binascii.Error:  # bad padding, or a length no bytes encode to
        return False
    return True


_URLSAFE = str.maketrans("-_", "+/")


@router.get("", include_in_schema=False)
async def sign_in_page() -> FileResponse:
    return FileResponse(PAGE_DIR / "index.html", headers=_PAGE_HEADERS)


@router.get("/sign-in.js", include_in_schema=False)
async def sign_in_script() -> FileResponse:
    return FileResponse(PAGE_DIR / "sign-in.js", media_type="text/javascript", headers=_PAGE_HEADERS)


@router.post("/session", status_code=204, response_class=Response, responses=ADMIN_ONLY,
             summary="Sign a browser in to the codec server (admins): a session cookie for /codec only")
async def sign_in(request: Request, response: Response, _: Admin,
                  credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    if credentials is None:
        raise ApiError(401, "unauthorized", "Sign in with 'Authorization: Bearer <admin key>'.")
    # HttpOnly: no script reads it; SameSite=Strict and Path=/codec: sent only to this codec server, from its site.
    response.set_cookie(SESSION_COOKIE, credentials.credentials, max_age=SESSION_SECONDS, path="/codec",
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")


@router.delete("/session", status_code=204, response_class=Response, summary="Sign the browser out")
async def sign_out(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/codec", httponly=True, samesite="strict")
