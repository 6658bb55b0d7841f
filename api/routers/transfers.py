"""Transfers: bots start them and pass on the prospect's answers; reps act on their offers."""

from __future__ import annotations

import hashlib
import json
import secrets

from fastapi import APIRouter, Depends, Request, Response
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api import temporal_calls
from api.auth import require
from api.errors import ApiError
from api.sse import outbox_stream
from config import Settings
from domain.requests import Feedback, ProspectAction, RepAction, TransferRequest
from domain.view import TransferView
from store.keys import Principal
from workflows.models import Timings, TransferInput
from workflows.transfer import TransferWorkflow

router = APIRouter(prefix="/v1/transfers", tags=["transfers"])


def _timings(settings: Settings) -> Timings:
    return Timings(
        offer=settings.offer_timeout,
        ack=settings.ack_timeout,
        prepare=settings.prepare_timeout,
        choice=settings.choice_timeout,
        queue_recheck=settings.queue_recheck,
        recovery_minutes=settings.recovery_minutes,
        feedback_wait=settings.feedback_wait,
    )


def _digest(request: TransferRequest) -> str:
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _summary(request: TransferRequest) -> str:
    p, ctx = request.context.prospect, request.context
    who = " @ ".join(x for x in (p.name, p.company) if x) or "Prospect"
    return f"{who}: {ctx.transfer_reason or 'transfer'}"[:200]


@router.post(
    "",
    response_model=TransferView,
    status_code=201,
    summary="Start a transfer (or return the one with this transfer_id)",
)
async def start_transfer(
    body: TransferRequest, request: Request, response: Response, _: Principal = Depends(require("bot", "admin"))
) -> TransferView:
    state = request.app.state
    transfer_id = body.transfer_id or f"xfer_{secrets.token_hex(8)}"
    body = body.model_copy(update={"transfer_id": transfer_id})
    digest = _digest(body)
    client: Client = state.client
    try:
        handle = await client.start_workflow(
            TransferWorkflow.run,
            TransferInput(request=body, timings=_timings(state.settings), request_digest=digest),
            id=transfer_id,
            task_queue=state.settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            request_eager_start=True,
            static_summary=_summary(body),
        )
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle(transfer_id)
        if await temporal_calls.query(handle, TransferWorkflow.request_digest) != digest:
            raise ApiError(
                409, "conflict", f"transfer_id {transfer_id} is already used for a different request."
            ) from None
        response.status_code = 200
        return await temporal_calls.query(handle, TransferWorkflow.view)
    return await temporal_calls.update(handle, TransferWorkflow.ready)


async def _view_for(request: Request, transfer_id: str, who: Principal) -> TransferView:
    handle = request.app.state.client.get_workflow_handle(transfer_id)
    view: TransferView = await temporal_calls.query(handle, TransferWorkflow.view)
    if who.role == "rep" and (view.rep is None or view.rep.id != who.rep_id):
        raise ApiError(404, "not_found", f"No transfer {transfer_id}.")  # a rep never learns of others' transfers
    return view


@router.get("/{transfer_id}", response_model=TransferView, summary="The transfer: state, rep, queue, lines, timeline")
async def get_transfer(
    transfer_id: str, request: Request, who: Principal = Depends(require("bot", "admin", "rep"))
) -> TransferView:
    return await _view_for(request, transfer_id, who)


@router.post(
    "/{transfer_id}/prospect",
    response_model=TransferView,
    summary="Pass on the prospect's answer: note, proceed, wait, callback, email, replied, left",
)
async def prospect_action(
    transfer_id: str, action: ProspectAction, request: Request, _: Principal = Depends(require("bot", "admin"))
) -> TransferView:
    handle = request.app.state.client.get_workflow_handle(transfer_id)
    return await temporal_calls.update(handle, TransferWorkflow.prospect, action)


@router.post(
    "/{transfer_id}/rep",
    response_model=TransferView,
    summary="A rep's action: accept, decline, defer, schedule_callback, ack, outcome",
)
async def rep_action(
    transfer_id: str, action: RepAction, request: Request, who: Principal = Depends(require("rep"))
) -> TransferView:
    handle = request.app.state.client.get_workflow_handle(transfer_id)
    return await temporal_calls.update(
        handle, TransferWorkflow.rep_action, action.model_copy(update={"rep_id": who.rep_id})
    )


@router.post(
    "/{transfer_id}/feedback",
    response_model=TransferView,
    summary="Feedback after the outcome: the rep's (from=rep) or the prospect's CSAT (from=prospect)",
)
async def feedback(
    transfer_id: str, parsed: Feedback, request: Request, who: Principal = Depends(require("rep", "bot", "admin"))
) -> TransferView:
    if (parsed.source == "rep") != (who.role == "rep"):
        raise ApiError(403, "forbidden", "Rep feedback comes with a rep key; prospect feedback with a bot key.")
    if parsed.source == "rep":
        parsed = parsed.model_copy(update={"rep_id": who.rep_id})
    handle = request.app.state.client.get_workflow_handle(transfer_id)
    return await temporal_calls.update(handle, TransferWorkflow.give_feedback, parsed)


@router.get("/{transfer_id}/events", summary="Server-sent events: bot lines and state changes, as they happen")
async def events(transfer_id: str, request: Request, who: Principal = Depends(require("bot", "admin"))):
    await _view_for(request, transfer_id, who)  # 404 before the stream opens
    outbox = request.app.state.services.outbox
    return outbox_stream(request, lambda after: outbox.for_transfer(transfer_id, after, "bot"))
