"""Transfers: bots start them and pass on the prospect's answers; reps act on their offers."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, StringConstraints

from api.auth import KeyFirstRoute, KeyStillValid, require
from api.deps import BriefsService, Services, StreamPollSeconds, Transfers
from api.errors import ApiError, error_responses, invalid
from api.sse import EVENT_STREAM, outbox_stream, resume_after
from api.threads import blocking
from domain.requests import Feedback, ProspectAction, RepAction, TransferId, TransferRequest
from domain.scripts.brief import TransferBrief
from domain.view import TransferView
from integrations.notify.destinations import CallbackPolicy, RefusedDestination
from store.keys import Principal
from store.outbox import transfer_topic
from store.usage import UsageStore

router = APIRouter(prefix="/v1/transfers", tags=["transfers"], route_class=KeyFirstRoute,
                   responses=error_responses(401, 403, 422, 503))
ONE = error_responses(404)
ACTION = error_responses(404, 409, 413)


def _key(who: Principal) -> str:
    """How a transfer records the key that started it."""
    return f"api-key:{who.key_id}"


def _acting_key(who: Principal) -> str | None:
    """A bot key sees and acts on only the transfers it started; an admin key, on any; a rep key, on those offered
    to it (checked by _view_for and the workflow's rep rules)."""
    return _key(who) if who.role == "bot" else None


# A callback's host is resolved on threads of its own, for at most RESOLVE_SECONDS: a bot may name a host whose DNS
# is slow to answer, and that must neither hold up the start for long nor take the threads the API's other work
# runs on.
_RESOLVERS = ThreadPoolExecutor(4, "callback-dns")
RESOLVE_SECONDS = 2.0


async def _check_callback(callbacks: CallbackPolicy, url: str) -> None:
    """422 for a callback_url the webhook destination rules refuse. A name that does not resolve now, or not in
    time, is left to the delivery, which checks every address again as it connects."""
    try:
        parsed = callbacks.check_url(url)
        await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(
            _RESOLVERS, callbacks.checked_addresses, parsed.host, parsed.port or 443), RESOLVE_SECONDS)
    except RefusedDestination as refused:
        raise invalid("bot.callback_url", str(refused)) from refused
    except (OSError, TimeoutError):  # socket.gaierror: it does not resolve now
        pass


@router.post("", response_model=TransferView, status_code=201,
             responses={200: {"model": TransferView, "description": "The transfer this key already started with this "
                              "transfer_id and this body"}, **error_responses(409, 413)},
             summary="Start a transfer (or return the one with this transfer_id)")
async def start_transfer(body: TransferRequest, response: Response, transfers: Transfers, services: Services,
                         who: Principal = Depends(require("bot", "admin"))) -> TransferView:
    if body.bot.callback_url is not None:
        await _check_callback(services.integrations.callbacks, str(body.bot.callback_url))
    team = body.routing.team
    if team is not None and not (services.reps.team_seen(team) or await blocking(services.reps.has_team, team)):
        raise invalid("routing.team", f"no rep is in team {team!r}")
    view, created = await transfers.start(body, _key(who))
    if not created:
        response.status_code = 200
    return view


async def _view_for(transfers: Transfers, transfer_id: str, who: Principal) -> TransferView:
    view = await transfers.view(transfer_id, _acting_key(who))
    if who.role == "rep" and (view.rep is None or view.rep.id != who.rep_id):
        raise ApiError(404, "not_found", f"No transfer {transfer_id}.")  # a rep never learns of others' transfers
    return view


@router.get("/{transfer_id}", response_model=TransferView, responses=ONE,
            summary="The transfer: state, rep, queue, lines, timeline")
async def get_transfer(transfer_id: TransferId, transfers: Transfers,
                       who: Principal = Depends(require("bot", "admin", "rep"))) -> TransferView:
    return await _view_for(transfers, transfer_id, who)


@router.post("/{transfer_id}/prospect", response_model=TransferView, responses=ACTION,
             summary="Pass on the prospect's answer: note, proceed, wait, callback, email, replied, left")
async def prospect_action(transfer_id: TransferId, action: ProspectAction, transfers: Transfers,
                          who: Principal = Depends(require("bot", "admin"))) -> TransferView:
    return await transfers.prospect_action(transfer_id, action.model_copy(update={"acting_key": _acting_key(who)}))


@router.post("/{transfer_id}/rep", response_model=TransferView, responses=ACTION,
             summary="A rep's action: accept, decline, defer, schedule_callback, ack, outcome")
async def rep_action(transfer_id: TransferId, action: RepAction, transfers: Transfers,
                     who: Principal = Depends(require("rep"))) -> TransferView:
    return await transfers.rep_action(transfer_id, action.model_copy(update={"rep_id": who.rep_id}))


@router.post("/{transfer_id}/feedback", response_model=TransferView, responses=ACTION,
             summary="Feedback after the outcome: the rep's (from=rep) or the prospect's CSAT (from=prospect)")
async def feedback(transfer_id: TransferId, parsed: Feedback, transfers: Transfers,
                   who: Principal = Depends(require("rep", "bot", "admin"))) -> TransferView:
    if (parsed.source == "rep") != (who.role == "rep"):
        raise ApiError(403, "forbidden", "Rep feedback comes with a rep key; prospect feedback with a bot key.")
    caller = {"rep_id": who.rep_id} if parsed.source == "rep" else {"acting_key": _acting_key(who)}
    return await transfers.feedback(transfer_id, parsed.model_copy(update=caller))


@router.get("/{transfer_id}/events", response_class=Response, responses={**EVENT_STREAM, **ONE},
            summary="Server-sent events: bot lines and state changes, as they happen")
async def events(transfer_id: TransferId, request: Request, transfers: Transfers, services: Services,
                 poll_seconds: StreamPollSeconds, key_valid: KeyStillValid, after: int = Depends(resume_after),
                 who: Principal = Depends(require("bot", "admin"))):
    await _view_for(transfers, transfer_id, who)  # 404 before the stream opens
    outbox = services.outbox
    return outbox_stream(request, after, outbox.appended, poll_seconds,
                         lambda last_id: outbox.for_transfer(transfer_id, last_id, "bot"), transfer_topic(transfer_id),
                         key_valid)


@router.get("/{transfer_id}/brief", response_model=TransferBrief, responses=ONE,
            summary="What the rep console shows: alert, 10-second summary, talking points, opener, checklist")
async def brief(transfer_id: TransferId, transfers: Transfers, briefs: BriefsService,
                who: Principal = Depends(require("rep", "admin"))) -> TransferBrief:
    return await briefs.of(await _view_for(transfers, transfer_id, who))


class UsageBody(BaseModel):
    item: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}(:[0-9]{1,3})?$")] = Field(
        description="What the rep opened: summary_seen, transcript_expanded, opener_copied, checklist:<n>, ..."
    )


@router.post("/{transfer_id}/usage", status_code=204, response_class=Response, responses=error_responses(404, 413),
             summary="Record what the rep opened in the console (counted once per item)")
async def usage(transfer_id: TransferId, body: UsageBody, transfers: Transfers, services: Services,
                who: Principal = Depends(require("rep"))) -> None:
    await _view_for(transfers, transfer_id, who)
    await blocking(UsageStore(services.db).record, transfer_id, who.rep_id, body.item, datetime.now(UTC))
