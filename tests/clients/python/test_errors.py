"""Each error status of the API raises its own exception in the bots' client, carrying the API's error body; no
answer at all raises Unreachable; a Temporal that does not answer, Unavailable with the time to wait."""

from __future__ import annotations

import os
import signal
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from warm_transfer_client import (
    ApiError,
    AsyncWarmTransfer,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    TooLarge,
    Unauthorized,
    Unavailable,
    UnexpectedAnswer,
    Unreachable,
    WarmTransfer,
    WarmTransferError,
)

from tests.clients.python.conftest import Connect, Driven
from tests.clients.python.test_client import start_request
from tests.conftest import free_port, start_dev_server
from tests.e2e.conftest import stack_on


@contextmanager
def raised(kind: type[ApiError], status: int, code: str) -> Any:
    with pytest.raises(kind) as caught:
        yield caught
    error = caught.value
    assert isinstance(error, ApiError) and isinstance(error, WarmTransferError)
    assert (error.status, error.code, error.error.code) == (status, code, code) and error.message
    assert str(error).startswith(f"{error.method} {error.path} answered {status} ({code}): ")


async def test_each_error_status_raises_its_exception(connect: Connect, stack, acme_context) -> None:
    rep_key = stack.rep("sarah")
    bot, sarah, stranger = connect(stack.bot_key), connect(rep_key), connect("wt_bot_nobody")
    request = start_request(acme_context)
    tid = (await bot.start(request)).transfer_id

    with raised(Unauthorized, 401, "unauthorized"):
        await stranger.view(tid)
    with raised(Forbidden, 403, "forbidden"):
        await sarah.start(start_request(acme_context))  # a rep key may not start transfers
    with raised(NotFound, 404, "not_found") as missing:
        await bot.view("xfer_nobody_knows")
    assert missing.value.path == "/v1/transfers/xfer_nobody_knows"
    with raised(Conflict, 409, "conflict"):  # the same transfer_id for another request
        await bot.start(request.model_copy(update={"bot": request.bot.model_copy(update={"name": "Other"})}))
    with raised(Conflict, 409, "rejected"):  # not possible in this state, and nothing changed
        await bot.prospect(tid, "replied")
    assert (await bot.view(tid)).status == "preparing"
    with raised(TooLarge, 413, "too_large"):
        too_long = {**acme_context, "transfer_id": None, "conversation_transcript": "x" * 1_100_000}
        await bot.start(start_request(too_long))
    with raised(InvalidRequest, 422, "invalid_request") as invalid:
        await bot.prospect(tid, "callback", phone="call me maybe")
    assert [problem["field"] for problem in invalid.value.details] == ["phone"]


async def test_a_success_that_is_not_the_apis_answer_is_unexpected(connect: Connect, stack) -> None:
    elsewhere = connect(stack.bot_key, f"{stack.url}/healthz?to=")  # every path lands on {"ok": true}
    with pytest.raises(UnexpectedAnswer, match=r"^GET /v1/transfers/x's answer \(200\) is not what the API "
                                               r"documents: transfer_id: Field required; status: Field required$"):
        await elsewhere.view("x")


async def test_no_answer_is_unreachable(connect: Connect) -> None:
    nowhere = connect("wt_bot_x", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(Unreachable, match=r"^GET /v1/transfers/x: no answer \(ConnectError"):
        await nowhere.view("x")


def dev_server_pid(port: str) -> int:
    """The dev server listening on `port`: SDK-started, a child of one of this process's threads."""
    [pid] = [int(proc.name) for proc in Path("/proc").iterdir()
             if proc.name.isdigit() and {b"--port", port.encode()} <= set(_cmdline(proc))]
    return pid


def _cmdline(proc: Path) -> list[bytes]:
    try:
        return (proc / "cmdline").read_bytes().split(b"\0")
    except OSError:  # gone meanwhile
        return []


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", [AsyncWarmTransfer, WarmTransfer])
async def test_a_temporal_that_does_not_answer_is_unavailable_with_a_time_to_wait(kind, tmp_path, acme_context):
    """On a Temporal dev server of its own, hung (SIGSTOP) while the API keeps serving."""
    temporal = await start_dev_server()
    try:
        async with stack_on(temporal.client, tmp_path) as stack:
            stack.rep("sarah")  # the team the transfer asks for
            server = dev_server_pid(temporal.client.service_client.config.target_host.rsplit(":", 1)[1])
            bot = Driven(kind(stack.bot_key, stack.url))
            os.kill(server, signal.SIGSTOP)
            try:
                with raised(Unavailable, 503, "unavailable") as refused:
                    await bot.start(start_request(acme_context))
                assert refused.value.retry_after == 2
            finally:
                os.kill(server, signal.SIGCONT)
                await bot.close()
    finally:
        await temporal.shutdown()
