"""The API's way to transfer workflows, through the Temporal client: every call, with Temporal's failures
turned into clear HTTP errors."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WithStartWorkflowOperation,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api import log_context
from api.errors import ApiError
from api.reachability import TemporalReachability, unavailable
from api.threads import blocking
from config import Settings
from domain.lifecycle import NotTheOwner
from domain.requests import Feedback, ProspectAction, ProspectFeedback, RepAction, TransferRequest
from domain.scripts.follow_up import prospect_label
from domain.view import BriefFacts, TransferView
from store.capacity import CapacityStore
from workflows.models import Timings, TransferInput
from workflows.transfer import TransferWorkflow

# A read waits for a worker to answer it: while the worker is starting again it gets a 503 after this, not after the
# server's own limit (30 s).
QUERY_TIMEOUT = timedelta(seconds=5)
# What the SDK raises once the start's outcome is known, so the operation's handle is settled by then.
_START_FAILURES = (WorkflowAlreadyStartedError, RPCError, RPCTimeoutOrCancelledError)


class TransferClient:
    def __init__(self, client: Client, settings: Settings, capacity: CapacityStore):
        self.client, self.settings, self.capacity = client, settings, capacity
        self.reachability = TemporalReachability(client)  # every call below goes through it

    async def start(self, request: TransferRequest, owner: str) -> tuple[TransferView, bool]:
        """The new transfer, started by the key `owner`: its view and True; or, for a transfer_id already used by
        the same request from the same key, its view and False (a 409 for a different request or key)."""
        transfer_id = request.transfer_id or f"xfer_{secrets.token_hex(8)}"
        log_context.transfer_id.set(transfer_id)
        request = request.model_copy(update={"transfer_id": transfer_id})
        digest = _digest(request, owner)
        # The start and the first answer in one call: the `ready` update rides on the workflow's first task, so
        # the answer needs one workflow task, not two (a start, then an update).
        start = WithStartWorkflowOperation(
            TransferWorkflow.run,
            TransferInput(request=request, timings=_timings(self.settings), request_digest=digest, owner=owner),
            id=transfer_id,
            task_queue=self.settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            static_summary=f"{prospect_label(request.context.prospect, 'Prospect')}: "
                           f"{request.context.transfer_reason or 'transfer'}"[:200],
        )
        try:
            with _update_errors(transfer_id):
                return await self.reachability.call(self._ready_with_start(start)), True
        except WorkflowAlreadyStartedError:
            if not await self._is_transfer(transfer_id):  # asked first: another workflow may never answer
                raise _taken(transfer_id) from None
            view = await self._first_answer(transfer_id)
            if await self._query(transfer_id, TransferWorkflow.request_digest) != digest:
                raise ApiError(409, "conflict",
                               f"transfer_id {transfer_id} is already used for a different request.") from None
            return view, False

    async def _first_answer(self, transfer_id: str) -> TransferView:
        """The view of a transfer already started, once it has given its first answer (a closed one's as it ended).
        The first answer comes before any query: a query that met the transfer's first workflow task under way (a
        start repeated after its answer was lost) left a history that no longer replayed (bench/README.md, chaos)."""
        try:
            return await self._update(transfer_id, TransferWorkflow.ready)
        except ApiError as err:
            if err.code != "closed":
                raise
            return await self.view(transfer_id)

    async def _ready_with_start(self, start: WithStartWorkflowOperation) -> TransferView:
        try:
            return await self.client.execute_update_with_start_workflow(TransferWorkflow.ready,
                                                                        start_workflow_operation=start)
        except _START_FAILURES:
            # The SDK hands a failed start's error (or cancellation) to the operation's handle as well; unread there,
            # asyncio logs it with its traceback ("Future exception was never retrieved") once it is collected.
            with suppress(Exception, asyncio.CancelledError):
                await start.workflow_handle()
            raise

    async def view(self, transfer_id: str, acting_key: str | None = None) -> TransferView:
        """The transfer's view; 404 for a bot key (`acting_key`) that did not start it, as for no transfer."""
        view = await self._query(transfer_id, TransferWorkflow.view, acting_key)
        if view is None:
            raise _not_found(transfer_id)
        return view

    async def brief_facts(self, transfer_id: str) -> BriefFacts:
        return await self._query(transfer_id, TransferWorkflow.brief_facts)

    async def prospect_action(self, transfer_id: str, action: ProspectAction) -> TransferView:
        return await self._update(transfer_id, TransferWorkflow.prospect, action, acting_key=action.acting_key)

    async def rep_action(self, transfer_id: str, action: RepAction) -> TransferView:
        """The rep's action; one the transfer already shows done by this rep answers as the first did (its answer lost
        in an outage and the call repeated, or the same click in a second tab), not with a refusal."""
        sent = action.model_copy(update={"sent_at": datetime.now(UTC)})
        try:
            return await self._update(transfer_id, TransferWorkflow.rep_action, sent, rep_id=action.rep_id)
        except ApiError as err:
            if err.code != "rejected" or action.action not in _DONE_WHEN:
                raise
            view = await self.view(transfer_id)
            if not _already_done(view, action):
                raise
            return view

    async def feedback(self, transfer_id: str, feedback: Feedback) -> TransferView:
        if isinstance(feedback, ProspectFeedback):
            return await self._update(transfer_id, TransferWorkflow.give_feedback, feedback,
                                      acting_key=feedback.acting_key)
        return await self._update(transfer_id, TransferWorkflow.give_feedback, feedback, rep_id=feedback.rep_id)

    async def hand_out_free_seats(self, available: str | None = None) -> None:
        """Give seats freed by a directory change to waiting transfers, and wake those transfers. `available`: a rep
        who has just made themselves available, so transfers that passed over them may have them now.

        A signal that fails (the transfer just closed, Temporal is unreachable) is no loss: queued transfers also look
        again by themselves."""
        change = await blocking(self.capacity.dispatch, datetime.now(UTC), available)
        with suppress(ApiError):
            await self.reachability.call(self._wake(change.to_wake()))

    async def _wake(self, transfer_ids: list[str]) -> None:
        await asyncio.gather(*(self.client.get_workflow_handle(t).signal(TransferWorkflow.queue_changed)
                               for t in transfer_ids), return_exceptions=True)

    async def _update(self, transfer_id: str, method: Any, *args: Any, acting_key: str | None = None,
                      rep_id: str | None = None) -> TransferView:
        """The update's answer. The workflow's validators refuse a bot key that did not start the transfer, and a rep
        it is not offered to (404). A closed transfer takes no update at all, and one closing as the update arrives
        is not found: both are closed (409) to whoever may know of the transfer, asked of its view."""
        try:
            with _update_errors(transfer_id):
                handle = self.client.get_workflow_handle(transfer_id)
                return await self.reachability.call(handle.execute_update(method, args=args))
        except ApiError as err:
            if err.code in ("closed", "not_found") and not isinstance(err.__cause__, WorkflowUpdateFailedError):
                view = await self.view(transfer_id, acting_key)
                if rep_id is not None and (view.rep is None or view.rep.id != rep_id):
                    raise _not_found(transfer_id) from err
                raise _closed(transfer_id) from err
            await self._unless_foreign(transfer_id, err)
            raise

    async def _unless_foreign(self, transfer_id: str, err: ApiError) -> None:
        """404 for what failed because the id is not a transfer's: the namespace also runs our schedules'
        workflows (and may run others'), whose ids a caller can guess, and which refuse, fail or never answer a
        transfer's query or update. Asked only after a failure: the answers that went well need no more."""
        if err.code in ("rejected", "unavailable") and not await self._is_transfer(transfer_id):
            raise _not_found(transfer_id) from err

    async def _is_transfer(self, workflow_id: str) -> bool:
        try:
            description = await self.reachability.call(self.client.get_workflow_handle(workflow_id).describe())
        except RPCError as err:
            raise _rpc_error(err, workflow_id) from err
        return description.workflow_type == TransferWorkflow.__name__

    async def _query(self, transfer_id: str, method: Any, *args: Any) -> Any:
        try:
            try:
                handle = self.client.get_workflow_handle(transfer_id)
                return await self.reachability.call(handle.query(method, args=args, rpc_timeout=QUERY_TIMEOUT))
            except WorkflowQueryFailedError as err:
                raise unavailable(f"The transfer could not be read: {err}") from err
            except RPCError as err:
                raise _rpc_error(err, transfer_id) from err
        except ApiError as err:
            await self._unless_foreign(transfer_id, err)
            raise


def _timings(settings: Settings) -> Timings:
    """The timings a new transfer starts with; a running transfer keeps its own."""
    return Timings(offer=settings.offer_timeout, ack=settings.ack_timeout, prepare=settings.prepare_timeout,
                   choice=settings.choice_timeout, queue_recheck=settings.queue_recheck,
                   recovery_minutes=settings.recovery_minutes, feedback_wait=settings.feedback_wait)


def _digest(request: TransferRequest, owner: str) -> str:
    """Tells a repeated start with a different body, or from another key, apart (409)."""
    canonical = json.dumps([request.model_dump(mode="json"), owner], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _not_found(transfer_id: str) -> ApiError:
    return ApiError(404, "not_found", f"No transfer {transfer_id}.")


def _taken(transfer_id: str) -> ApiError:
    return ApiError(409, "conflict", f"transfer_id {transfer_id} is taken; choose another.")


def _closed(transfer_id: str) -> ApiError:
    return ApiError(409, "closed", f"Transfer {transfer_id} is closed; it takes no more actions.")


# The states a rep's action leaves the transfer in while it is still that rep's (an outcome: with that outcome).
_DONE_WHEN = {"accept": {"connecting", "connected"}, "ack": {"connected"}, "outcome": {"completed"}}


def _already_done(view: TransferView, action: RepAction) -> bool:
    return (view.rep is not None and view.rep.id == action.rep_id and view.status in _DONE_WHEN[action.action]
            and (action.action != "outcome" or view.outcome == action.outcome))


@contextmanager
def _update_errors(transfer_id: str) -> Iterator[None]:
    try:
        yield
    except WorkflowUpdateFailedError as err:
        cause = _application_cause(err)
        if cause is not None and cause.type == NotTheOwner.__name__:
            raise _not_found(transfer_id) from err
        raise ApiError(409, "rejected", cause.message if cause is not None else str(err)) from err
    except RPCError as err:
        raise _rpc_error(err, transfer_id) from err


def _application_cause(err: WorkflowUpdateFailedError) -> ApplicationError | None:
    cause = err.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.cause
    return cause


def _rpc_error(err: RPCError, transfer_id: str) -> ApiError:
    if err.status == RPCStatusCode.NOT_FOUND:
        if "completed" in err.message:
            return _closed(transfer_id)
        return _not_found(transfer_id)
    if "aborted by closing workflow" in err.message:  # an update that arrived as the transfer closed
        return _closed(transfer_id)
    return unavailable(f"The workflow service did not answer: {err.message}")
