"""The rep directory and presence. Presence changes hand free seats to waiting transfers at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from api.auth import require
from api.deps import Services, StreamPollSeconds, Transfers
from api.errors import ApiError
from api.sse import outbox_stream
from api.threads import blocking
from domain.reps import Presence, RepPatch, RepProfile, RepState
from integrations.calendar.ics import render_ics
from store.errors import Conflict, NotFound
from store.keys import Principal
from store.outbox import rep_topic

T = TypeVar("T")


router = APIRouter(prefix="/v1/reps", tags=["reps"])


class PresenceBody(BaseModel):
    status: Presence


class RepOut(BaseModel):
    rep: RepProfile
    presence: Presence
    active: int


def _out(state: RepState) -> RepOut:
    return RepOut(rep=state.profile, presence=state.presence, active=state.active)


async def _directory(fn: Callable[..., T], *args: Any) -> T:
    try:
        return await blocking(fn, *args)
    except NotFound as err:
        raise ApiError(404, "not_found", str(err)) from err
    except Conflict as err:
        raise ApiError(409, "conflict", str(err)) from err


def _own_or_admin(who: Principal, rep_id: str) -> None:
    if who.role == "rep" and who.rep_id != rep_id:
        raise ApiError(403, "forbidden", "A rep key can only change its own rep.")


@router.get("", response_model=list[RepOut], summary="List reps, optionally of one team")
async def list_reps(services: Services, team: str | None = None,
                    _: Principal = Depends(require("admin", "rep"))) -> list[RepOut]:
    return [_out(s) for s in await _directory(services.reps.list, team)]


@router.post("", response_model=RepOut, status_code=201, summary="Add a rep")
async def create_rep(profile: RepProfile, services: Services, _: Principal = Depends(require("admin"))) -> RepOut:
    return _out(await _directory(services.reps.create, profile))


@router.get("/me", response_model=RepOut, summary="The rep this key belongs to")
async def me(services: Services, who: Principal = Depends(require("rep"))) -> RepOut:
    return _out(await _directory(services.reps.get, who.rep_id))


@router.get("/{rep_id}", response_model=RepOut, summary="One rep")
async def get_rep(rep_id: str, services: Services, _: Principal = Depends(require("admin", "rep"))) -> RepOut:
    return _out(await _directory(services.reps.get, rep_id))


@router.patch("/{rep_id}", response_model=RepOut, summary="Change a rep's profile, skills, capacity or hours")
async def update_rep(rep_id: str, patch: RepPatch, services: Services, transfers: Transfers,
                     _: Principal = Depends(require("admin"))) -> RepOut:
    state = await _directory(services.reps.update, rep_id, patch)
    await transfers.hand_out_free_seats()
    return _out(state)


@router.put("/{rep_id}/presence", response_model=RepOut, summary="Set presence: available, busy, away, offline")
async def set_presence(rep_id: str, body: PresenceBody, services: Services, transfers: Transfers,
                       who: Principal = Depends(require("admin", "rep"))) -> RepOut:
    _own_or_admin(who, rep_id)
    state = await _directory(services.reps.set_presence, rep_id, body.status, datetime.now(UTC))
    await transfers.hand_out_free_seats()
    return _out(state)


@router.get(
    "/{rep_id}/calendar.ics",
    response_class=PlainTextResponse,
    summary="The rep's follow-up tasks as an iCalendar feed (a key may be passed as ?key=)",
)
async def calendar_feed(rep_id: str, services: Services, who: Principal = Depends(require("admin", "rep"))):
    _own_or_admin(who, rep_id)
    state = await _directory(services.reps.get, rep_id)
    tasks = await blocking(services.integrations.calendar.tasks_for, rep_id)
    return PlainTextResponse(render_ics(tasks, f"Warm Transfer: {state.profile.name}"), media_type="text/calendar")


@router.get("/me/stream", summary="Server-sent events for the rep console: offers, notes, follow-ups")
async def my_stream(request: Request, services: Services, poll_seconds: StreamPollSeconds,
                    who: Principal = Depends(require("rep"))):
    outbox = services.outbox
    return outbox_stream(request, outbox.appended, poll_seconds, lambda after: outbox.for_rep(who.rep_id, after),
                         rep_topic(who.rep_id))
