"""Transfers: bots start them and pass on the prospect's answers; reps act on their offers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, StringConstraints

from api.auth import require
from api.deps import BriefsService, Services, StreamPollSeconds, Transfers
from api.errors import ApiError
from api.sse import outbox_stream
from api.threads import blocking
from domain.requests import Feedback, ProspectAction, RepAction, TransferRequest
from domain.scripts.brief import TransferBrief
from domain.view import TransferView
from store.keys import Principal
from store.outbox import transfer_topic
from store.usage import UsageStore

router = APIRouter(prefix="/v1/transfers", tags=["transfers"])


@router.post("", response_model=TransferView, status_code=201,
             summary="Start a transfer (or return the one with this transfer_id)")
async def start_transfer(body: TransferRequest, response: Response, transfers: Transfers,
                         _: Principal = Depends(require("bot", "admin"))) -> TransferView:
    view, created = await transfers.start(body)
    if not created:
        response.status_code = 200
    return view


async def _view_for(transfers: Transfers, transfer_id: str, who: Principal) -> TransferView:
    view = await transfers.view(transfer_id)
    if who.role == "rep" and (view.rep is None or view.rep.id != who.rep_id):
        raise ApiError(404, "not_found", f"No transfer {transfer_id}.")  # a rep never learns of others' transfers
    return view


@router.get("/{transfer_id}", response_model=TransferView, summary="The transfer: state, rep, queue, lines, timeline")
async def get_transfer(transfer_id: str, transfers: Transfers,
                       who: Principal = Depends(require("bot", "admin", "rep"))) -> TransferView:
    return await _view_for(transfers, transfer_id, who)


@router.post("/{transfer_id}/prospect", response_model=TransferView,
             summary="Pass on the prospect's answer: note, proceed, wait, callback, email, replied, left")
async def prospect_action(transfer_id: str, action: ProspectAction, transfers: Transfers,
                          _: Principal = Depends(require("bot", "admin"))) -> TransferView:
    return await transfers.prospect_action(transfer_id, action)


@router.post("/{transfer_id}/rep", response_model=TransferView,
             summary="A rep's action: accept, decline, defer, schedule_callback, ack, outcome")
async def rep_action(transfer_id: str, action: RepAction, transfers: Transfers,
                     who: Principal = Depends(require("rep"))) -> TransferView:
    return await transfers.rep_action(transfer_id, action.model_copy(update={"rep_id": who.rep_id}))


@router.post("/{transfer_id}/feedback", response_model=TransferView,
             summary="Feedback after the outcome: the rep's (from=rep) or the prospect's CSAT (from=prospect)")
async def feedback(transfer_id: str, parsed: Feedback, transfers: Transfers,
                   who: Principal = Depends(require("rep", "bot", "admin"))) -> TransferView:
    if (parsed.source == "rep") != (who.role == "rep"):
        raise ApiError(403, "forbidden", "Rep feedback comes with a rep key; prospect feedback with a bot key.")
    if parsed.source == "rep":
        parsed = parsed.model_copy(update={"rep_id": who.rep_id})
    return await transfers.feedback(transfer_id, parsed)


@router.get("/{transfer_id}/events", summary="Server-sent events: bot lines and state changes, as they happen")
async def events(transfer_id: str, request: Request, transfers: Transfers, services: Services,
                 poll_seconds: StreamPollSeconds, who: Principal = Depends(require("bot", "admin"))):
    await _view_for(transfers, transfer_id, who)  # 404 before the stream opens
    outbox = services.outbox
    return outbox_stream(request, outbox.appended, poll_seconds,
                         lambda after: outbox.for_transfer(transfer_id, after, "bot"), transfer_topic(transfer_id))


@router.get("/{transfer_id}/brief", response_model=TransferBrief,
            summary="What the rep console shows: alert, 10-second summary, talking points, opener, checklist")
async def brief(transfer_id: str, transfers: Transfers, briefs: BriefsService,
                who: Principal = Depends(require("rep", "admin"))) -> TransferBrief:
    return await briefs.of(await _view_for(transfers, transfer_id, who))


class UsageBody(BaseModel):
    item: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}(:[0-9]{1,3})?$")] = Field(
        description="What the rep opened: summary_seen, transcript_expanded, opener_copied, checklist:<n>, ..."
    )


@router.post("/{transfer_id}/usage", status_code=204, response_class=Response,
             summary="Record what the rep opened in the console (counted once per item)")
async def usage(transfer_id: str, body: UsageBody, transfers: Transfers, services: Services,
                who: Principal = Depends(require("rep"))) -> None:
    await _view_for(transfers, transfer_id, who)
    await blocking(UsageStore(services.db).record, transfer_id, who.rep_id, body.item, datetime.now(UTC))
