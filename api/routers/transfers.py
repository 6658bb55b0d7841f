"""Transfers: bots start them and pass on the prospect's answers; reps act on their offers."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, StringConstraints
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api import temporal_calls
from api.auth import require
from api.errors import ApiError
from api.sse import outbox_stream
from config import Settings
from domain.accounts import AccountProfile
from domain.context import ContextPackage
from domain.requests import Feedback, ProspectAction, RepAction, TransferRequest
from domain.scripts import RepAlert, checklist, opener, quick_summary, rep_alert, talking_points, things_to_avoid
from domain.scripts.render import first_name
from domain.view import Status, TransferView
from store.errors import NotFound
from store.keys import Principal
from store.outbox import transfer_topic
from store.usage import UsageStore
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
    # The start and the first answer in one call: the `ready` update rides on the workflow's first task, so the
    # answer needs one workflow task, not two (a start, then an update).
    start = WithStartWorkflowOperation(
        TransferWorkflow.run,
        TransferInput(request=body, timings=_timings(state.settings), request_digest=digest),
        id=transfer_id,
        task_queue=state.settings.task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        static_summary=_summary(body),
    )
    try:
        return await temporal_calls.update_with_start(client, TransferWorkflow.ready, start, transfer_id)
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle(transfer_id)
        if await temporal_calls.query(handle, TransferWorkflow.request_digest) != digest:
            raise ApiError(
                409, "conflict", f"transfer_id {transfer_id} is already used for a different request."
            ) from None
        response.status_code = 200
        return await temporal_calls.query(handle, TransferWorkflow.view)


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
    return outbox_stream(request, lambda after: outbox.for_transfer(transfer_id, after, "bot"),
                         transfer_topic(transfer_id))


class TransferBrief(BaseModel):
    """Everything the console shows a rep about one transfer, in the rep's language; prospect data as written."""

    transfer_id: str
    status: Status
    locale: str
    offer_expires_at: datetime | None
    alert: RepAlert
    summary: str
    talking_points: list[str]
    avoid: list[str]
    next_steps: list[str]
    opener: str
    checklist: list[str]
    still_unknown: list[str]
    context: ContextPackage
    account: AccountProfile | None


async def _bot_name(request: Request, handle: WorkflowHandle) -> str | None:
    """The bot's name is in the workflow's input only: the first history event, decoded."""
    async for event in handle.fetch_history_events(page_size=1):
        started = event.workflow_execution_started_event_attributes
        [inp] = await request.app.state.client.data_converter.decode(started.input.payloads, [TransferInput])
        return inp.request.bot.name
    return None


async def _rep_locale(request: Request, rep_id: str) -> str:
    try:
        return (await request.app.state.run_sync(request.app.state.services.reps.get, rep_id)).profile.locale
    except NotFound:  # the rep left the directory: the brief still reads, in English
        return "en"


@router.get("/{transfer_id}/brief", response_model=TransferBrief,
            summary="What the rep console shows: alert, 10-second summary, talking points, opener, checklist")
async def brief(transfer_id: str, request: Request, who: Principal = Depends(require("rep", "admin"))) -> TransferBrief:
    view = await _view_for(request, transfer_id, who)
    handle = request.app.state.client.get_workflow_handle(transfer_id)
    context: ContextPackage = await temporal_calls.query(handle, TransferWorkflow.context)
    locale = await _rep_locale(request, view.rep.id) if view.rep else "en"
    account = await request.app.state.run_sync(request.app.state.services.integrations.crm.lookup, context.prospect)
    points = checklist(context, locale)
    return TransferBrief(
        transfer_id=transfer_id,
        status=view.status,
        locale=locale,
        offer_expires_at=view.offer_expires_at,
        alert=rep_alert(context, locale),
        summary=quick_summary(context, locale),
        talking_points=talking_points(context, locale),
        avoid=things_to_avoid(context, locale),
        next_steps=points[-1:],  # the checklist ends with the next step
        opener=opener(context, first_name(view.rep.name if view.rep else None), await _bot_name(request, handle),
                      locale),
        checklist=points,
        still_unknown=view.collect,
        context=context,
        account=account,
    )


class UsageBody(BaseModel):
    item: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}(:[0-9]{1,3})?$")] = Field(
        description="What the rep opened: summary_seen, transcript_expanded, opener_copied, checklist:<n>, ..."
    )


@router.post("/{transfer_id}/usage", status_code=204, response_class=Response,
             summary="Record what the rep opened in the console (counted once per item)")
async def usage(transfer_id: str, body: UsageBody, request: Request, who: Principal = Depends(require("rep"))) -> None:
    await _view_for(request, transfer_id, who)
    record = UsageStore(request.app.state.services.db).record
    await request.app.state.run_sync(record, transfer_id, who.rep_id, body.item, datetime.now(UTC))
