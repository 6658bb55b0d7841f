"""The codec server: lets people who may see prospects' personal data read transfers in the Temporal UI (or the
`temporal` CLI's --codec-endpoint) by decrypting payloads here, where the key ring is.

Only admins: by `Authorization: Bearer <admin key>` (the CLI's --codec-auth), or from a browser by the session
cookie `POST /codec/session` sets (the Temporal UI sends it when its Codec Server setting "include cross-origin
credentials" is on): a signed session that ends after 8 hours or when its key is revoked, never the key itself
(CodecSessions). Browsers may call it only from the Temporal UIs in WT_CODEC_ORIGINS.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from google.protobuf import json_format
from pydantic import BaseModel
from temporalio.api.common.v1 import Payloads

from api.auth import KeyFirstRoute, principal_of
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
    if getattr(request.state, "codec_admin", None) is not None:  # checked already, before the body was read
        return
    if credentials is not None:  # no valid key: 401, as everywhere in the API; 403 is for a valid key of another role
        who = await principal_of(request, credentials, services.keys)
    else:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            raise ApiError(401, "unauthorized", "Send an admin key as 'Authorization: Bearer <key>', or sign in at "
                           "/codec first.")
        key_id = _sessions(request).key_id(token)
        who = await blocking(services.keys.by_id, key_id) if key_id is not None else None
        if who is None:
            raise ApiError(401, "unauthorized", "The codec session has expired, or its key was revoked: sign in at "
                           "/codec again.")
    if who.role != "admin":
        raise ApiError(403, "forbidden", "Only an admin key may read or write transfers' payloads.")
    request.state.codec_admin = who


class CodecSessions:
    """The session cookie's value: `<claims>.<HMAC-SHA256 of them>`, base64url, where the claims are the signing-in
    key's id and when the session ends. It carries no key and is useless past its end; every API process verifies
    it with the same secret (nothing kept in memory), and the key it names is looked up on each request, so a
    revoked key ends its sessions."""

    def __init__(self, secret: bytes, seconds: int = SESSION_SECONDS, clock: Callable[[], float] = time.time):
        self._secret, self.seconds, self._clock = secret, seconds, clock

    @classmethod
    def from_secret(cls, shared: str, **kwargs) -> CodecSessions:
        """Signed with a key of its own, derived from a secret every API process shares (WT_WEBHOOK_SECRET)."""
        return cls(hmac.new(shared.encode(), b"warm-transfer codec session v1", hashlib.sha256).digest(), **kwargs)

    def issue(self, key_id: int) -> str:
        claims = _b64(json.dumps({"kid": key_id, "exp": int(self._clock()) + self.seconds}).encode())
        return f"{claims}.{self._signature(claims)}"

    def key_id(self, token: str) -> int | None:
        """The id of the key that signed in; None for a token altered, expired or not ours."""
        claims, _, signature = token.partition(".")
        if not hmac.compare_digest(signature.encode(), self._signature(claims).encode()):
            return None
        try:
            found = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
            key_id, ends = found["kid"], found["exp"]
        except (ValueError, TypeError, KeyError):
            return None
        return key_id if isinstance(key_id, int) and isinstance(ends, int) and self._clock() < ends else None

    def _signature(self, claims: str) -> str:
        return _b64(hmac.new(self._secret, claims.encode(), hashlib.sha256).digest())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _sessions(request: Request) -> CodecSessions:
    """The app's CodecSessions, made on first use from its settings."""
    found = getattr(request.app.state, "codec_sessions", None)
    if found is None:
        shared = request.app.state.transfers.settings.webhook_secret
        # The services refuse to start without WT_WEBHOOK_SECRET: the random one is for an app built without them
        # (tests), where one process is all there is.
        found = CodecSessions.from_secret(shared.get_secret_value() if shared else secrets.token_urlsafe(32))
        request.app.state.codec_sessions = found
    return found


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
    sessions = _sessions(request)
    # The cookie holds a signed, expiring session (CodecSessions), never the key. HttpOnly: no script reads it;
    # SameSite=Strict and Path=/codec: sent only to this codec server, from its site.
    response.set_cookie(SESSION_COOKIE, sessions.issue(request.state.codec_admin.key_id), max_age=sessions.seconds,
                        path="/codec", httponly=True, samesite="strict", secure=request.url.scheme == "https")


@router.delete("/session", status_code=204, response_class=Response, summary="Sign the browser out")
async def sign_out(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/codec", httponly=True, samesite="strict")
