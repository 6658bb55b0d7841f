"""Request bodies over the limit are refused with 413 before they are read whole, and a request without a valid key
with 401 before its body is read: over real HTTP on loopback, with declared and chunked bodies. The bytes the app
receives are counted, so "not read" is seen, not inferred."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from api.app import create_app
from config import Settings
from tests.e2e.conftest import ADMIN_KEY, serving
from workers.services import build_services
from workers.stack import bind_api_socket

LIMIT = 64 * 1024
CHUNK = 16 * 1024
HUGE = 200 * 1024 * 1024  # what the client would send if nothing stopped it
# uvicorn stops reading a connection while the app has 64 KiB of its body unread; a read takes up to 64 KiB more.
SERVER_BUFFERS = 2 * 64 * 1024


class CountingApp:
    """ASGI wrapper: the body bytes the app asked for with receive()."""

    def __init__(self, app):
        self.app, self.received = app, 0

    async def __call__(self, scope, receive, send):
        async def counted():
            message = await receive()
            self.received += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


@pytest.fixture
async def api(tmp_path) -> AsyncIterator[tuple[int, CountingApp]]:
    """The app with a 64 KiB limit on a loopback socket. No Temporal: none of these requests may get that far."""
    settings = Settings(database_url=f"sqlite:///{tmp_path}/app.db", admin_key=ADMIN_KEY, max_request_bytes=LIMIT)
    services = build_services(settings)
    app = CountingApp(create_app(settings, services, client=None))
    sock = bind_api_socket("127.0.0.1", 0)
    async with serving(app, sock):
        yield sock.getsockname()[1], app
    sock.close()
    services.db.dispose()


@dataclass
class Upload:
    status: int
    body: dict
    sent: int  # body bytes the client had sent when the answer came


async def upload(port: int, headers: dict[str, str], size: int, chunked: bool,
                 request_line: str = "POST /v1/triggers/evaluate") -> Upload:
    """POST /v1/triggers/evaluate (or `request_line`) with a body of `size` bytes, sent chunk by chunk until the
    server answers (or the body is all sent): a client that stops as soon as it is answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    framing = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(size)}
    head = "".join(f"{name}: {value}\r\n" for name, value in {**headers, **framing}.items())
    writer.write(f"{request_line} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 f"{head}\r\n".encode())
    answer = asyncio.create_task(_response(reader))
    sent = 0
    while sent < size and not answer.done():
        chunk = b" " * min(CHUNK, size - sent)
        writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        sent += len(chunk)
        draining = asyncio.ensure_future(writer.drain())  # waits while the server reads no more
        await asyncio.wait({answer, draining}, return_when=asyncio.FIRST_COMPLETED)
        if not draining.done():
            draining.cancel()
        elif draining.exception() is not None:  # the server closed the connection: its answer is in
            break
    status, body = await answer
    writer.close()
    return Upload(status, body, sent)


async def _response(reader: asyncio.StreamReader) -> tuple[int, dict]:
    status = int((await reader.readline()).split()[1])
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, json.loads(await reader.readexactly(int(headers["content-length"])))


KEY = {"Authorization": f"Bearer {ADMIN_KEY}"}


async def test_a_declared_body_over_the_limit_is_refused_before_a_byte_of_it_is_sent(api):
    port, app = api
    refused = await upload(port, KEY, 30 * 1024 * 1024, chunked=False)  # 30 MB, and a valid key
    assert refused.status == 413 and refused.body["error"]["code"] == "too_large"
    assert refused.sent < 30 * 1024 * 1024 and app.received == 0


async def test_a_chunked_body_is_refused_once_it_passes_the_limit(api):
    port, app = api
    refused = await upload(port, KEY, HUGE, chunked=True)
    assert refused.status == 413 and refused.body["error"]["code"] == "too_large"
    assert refused.sent < HUGE  # answered while the client was still sending
    assert LIMIT < app.received <= LIMIT + SERVER_BUFFERS  # read up to the limit and no further


NO_KEY = [{}, {"Authorization": "Bearer wt_not_a_key"}]


@pytest.mark.parametrize("headers", NO_KEY)
async def test_a_request_without_a_valid_key_is_refused_before_its_body_is_read(api, headers):
    port, app = api
    refused = await upload(port, headers, LIMIT // 2, chunked=False)  # under the limit: only the key refuses it
    assert refused.status == 401 and refused.body["error"]["code"] == "unauthorized"
    assert app.received == 0


@pytest.mark.parametrize("headers", NO_KEY)
async def test_a_chunked_body_without_a_valid_key_is_refused_while_it_is_still_being_sent(api, headers):
    port, app = api
    refused = await upload(port, headers, HUGE, chunked=True)
    assert refused.status == 401 and refused.body["error"]["code"] == "unauthorized"
    assert refused.sent < HUGE and app.received == 0


def _keyed_operations() -> list[str]:
    """Every operation the API documents as taking a key (its `security`), as a request line."""
    settings = Settings(database_url="sqlite://", admin_key=ADMIN_KEY)
    document = create_app(settings, build_services(settings), client=None).openapi()
    return sorted(f"{method.upper()} {path.replace('{', '').replace('}', '')}"
                  for path, operations in document["paths"].items()
                  for method, operation in operations.items() if operation.get("security"))


KEYED = _keyed_operations()


def test_the_keyed_operations_include_every_body_that_takes_a_key():
    assert {"POST /codec/decode", "POST /codec/encode", "POST /codec/session", "POST /v1/transfers",
            "POST /v1/api-keys", "POST /v1/triggers/evaluate", "PUT /v1/reps/rep_id/presence"} <= set(KEYED)


@pytest.mark.parametrize("request_line", KEYED)
async def test_a_declared_body_over_the_limit_with_an_unknown_key_is_unauthorized_on_every_keyed_route(
        api, request_line):
    """The key is checked before the body's size is acted on: 401, not 413, and not a byte read."""
    port, app = api
    refused = await upload(port, NO_KEY[1], 2 * LIMIT, chunked=False, request_line=request_line)
    assert refused.status == 401 and refused.body["error"]["code"] == "unauthorized"
    assert app.received == 0


@pytest.mark.parametrize("headers", NO_KEY)
@pytest.mark.parametrize("request_line", ["POST /codec/decode", "POST /codec/encode"])
@pytest.mark.parametrize("chunked", [False, True])
async def test_the_codec_server_refuses_a_request_without_a_valid_key_before_reading_its_body(
        api, headers, request_line, chunked):
    port, app = api
    refused = await upload(port, headers, LIMIT // 2 if not chunked else HUGE, chunked=chunked,
                           request_line=request_line)
    assert refused.status == 401 and refused.body["error"]["code"] == "unauthorized"
    assert app.received == 0


async def test_a_body_within_the_limit_is_read_and_answered(api):
    port, _ = api
    body = json.dumps({"messages": [{"role": "prospect", "text": "Can we book a demo this week?"}]})
    padded = body + " " * (LIMIT - len(body))  # exactly at the limit
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"POST /v1/triggers/evaluate HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ADMIN_KEY}\r\n"
                 f"Content-Type: application/json\r\nContent-Length: {len(padded)}\r\n\r\n{padded}".encode())
    status, answer = await _response(reader)
    writer.close()
    assert status == 200 and answer["transfer"] is True
