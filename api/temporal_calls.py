"""Calls from the API to transfer workflows, with Temporal's failures turned into clear HTTP errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError


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
        return await client.execute_update_with_start_workflow(method, start_workflow_operation=start)


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
