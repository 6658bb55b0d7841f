"""Calls from the API to transfer workflows, with Temporal's failures turned into clear HTTP errors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError

# What the SDK raises once the start's outcome is known, so the operation's handle is settled by then.
_START_FAILURES = (WorkflowAlreadyStartedError, RPCError, RPCTimeoutOrCancelledError)


def _rejection_message(err: WorkflowUpdateFailedError) -> str:
    cause = err.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.cause
    return cause.message if cause is not None else str(err)


async def update(handle: WorkflowHandle, method: Any, arg: Any = None) -> Any:
    with _update_errors(handle.id):
        if arg is None:
            return await handle.execute_update(method)
        return await handle.execute_update(method, arg)


async def update_with_start(client: Client, method: Any, start: WithStartWorkflowOperation, workflow_id: str) -> Any:
    """Start a workflow with an update in one call; WorkflowAlreadyStartedError if its id is taken."""
    with _update_errors(workflow_id):
        try:
            return await client.execute_update_with_start_workflow(method, start_workflow_operation=start)
        except _START_FAILURES:
            # The SDK hands a failed start's error (or cancellation) to the operation's handle as well; unread there,
            # asyncio logs it with its traceback ("Future exception was never retrieved") once it is collected.
            with suppress(Exception, asyncio.CancelledError):
                await start.workflow_handle()
            raise


@contextmanager
def _update_errors(transfer_id: str) -> Iterator[None]:
    try:
        yield
    except WorkflowUpdateFailedError as err:
        raise ApiError(409, "rejected", _rejection_message(err)) from err
    except RPCError as err:
        raise _rpc_error(err, transfer_id) from err


async def query(handle: WorkflowHandle, method: Any) -> Any:
    try:
        return await handle.query(method)
    except WorkflowQueryFailedError as err:
        raise ApiError(503, "unavailable", f"The transfer could not be read: {err}") from err
    except RPCError as err:
        raise _rpc_error(err, handle.id) from err


def _rpc_error(err: RPCError, transfer_id: str) -> ApiError:
    if err.status == RPCStatusCode.NOT_FOUND:
        if "completed" in err.message:
            return ApiError(409, "closed", f"Transfer {transfer_id} is closed; it takes no more actions.")
        return ApiError(404, "not_found", f"No transfer {transfer_id}.")
    return ApiError(503, "unavailable", f"The workflow service did not answer: {err.message}")
