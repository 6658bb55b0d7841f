"""The rep directory and presence. Presence changes hand free seats to waiting transfers at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime, BaseModel

from api.auth import KeyFirstRoute, KeyStillValid, calendar_reader, own_or_admin, require
from api.deps import Services, StreamPollSeconds, Transfers
from api.errors import ApiError, error_responses
from api.sse import EVENT_STREAM, outbox_stream, resume_after
from api.threads import blocking
from domain.lifecycle import FollowUpKind
from domain.reps import Presence, RepPatch, RepProfile, RepState
from domain.requests import RepId
from domain.scripts.follow_up import prospect_of_title
from integrations.calendar.base import CalendarTask
from integrations.calendar.ics import render_ics
from store.errors import Conflict, NotFound
from store.keys import Principal
from store.outbox import rep_topic

T = TypeVar("T")


router = APIRouter(prefix="/v1/reps", tags=["reps"], route_class=KeyFirstRoute,
                   responses=error_responses(401, 403, 422))
ONE = error_responses(404)
CHANGE = error_responses(404, 413)


class PresenceBody(BaseModel):
    status: Presence


class RepOut(BaseModel):
    rep: RepProfile
    presence: Presence
    active: int


class Colleague(BaseModel):
    """What a rep sees of a colleague: who they are and what they know, to defer a transfer to the right one; not
    how to reach them."""

    id: str
    name: str
    title: str | None = None
    expertise: str | None = None
    team: str
    skills: list[str]
    languages: list[str]


class ColleagueOut(BaseModel):
    rep: Colleague
    presence: Presence


class CalendarFeedOut(BaseModel):
    url: str  # the feed with its token: shown this once


class FollowUpOut(BaseModel):
    """One of the rep's open follow-ups, as the rep's calendar feed has it."""

    transfer_id: str
    kind: FollowUpKind  # callback: a call agreed with the prospect; email: an e-mail to write; after_hours
    due_at: AwareDatetime  # UTC
    prospect: str  # "Name @ Company" as the task's title holds it (the transfer's id when neither is known)


def _out(state: RepState) -> RepOut:
    return RepOut(rep=state.profile, presence=state.presence, active=state.active)


def _colleague(state: RepState) -> ColleagueOut:
    return ColleagueOut(rep=Colleague.model_validate(state.profile.model_dump()), presence=state.presence)


def _seen_by(who: Principal, state: RepState) -> RepOut | ColleagueOut:
    """An admin, or the rep themself, sees the whole profile; another rep, a colleague's."""
    if who.role == "admin" or who.rep_id == state.profile.id:
        return _out(state)
    return _colleague(state)


async def _directory(fn: Callable[..., T], *args: Any) -> T:
    try:
        return await blocking(fn, *args)
    except NotFound as err:
        raise ApiError(404, "not_found", str(err)) from err
    except Conflict as err:
        raise ApiError(409, "conflict", str(err)) from err


@router.get("", response_model=list[RepOut | ColleagueOut],
            summary="List reps, optionally of one team (a rep key sees colleagues without contact details)")
async def list_reps(services: Services, team: str | None = Query(None, max_length=40),
                    who: Principal = Depends(require("admin", "rep"))) -> list[RepOut | ColleagueOut]:
    return [_seen_by(who, s) for s in await _directory(services.reps.list, team)]


@router.post("", response_model=RepOut, status_code=201, responses=error_responses(409, 413), summary="Add a rep")
async def create_rep(profile: RepProfile, services: Services, _: Principal = Depends(require("admin"))) -> RepOut:
    return _out(await _directory(services.reps.create, profile))


@router.get("/me", response_model=RepOut, responses=ONE, summary="The rep this key belongs to")
async def me(services: Services, who: Principal = Depends(require("rep"))) -> RepOut:
    return _out(await _directory(services.reps.get, who.rep_id))


@router.get("/me/colleagues", response_model=list[ColleagueOut], responses=ONE,
            summary="The rep's teammates who can take a transfer now (available, a free seat, on shift): whom an "
                    "offer can be deferred to")
async def free_colleagues(services: Services, who: Principal = Depends(require("rep"))) -> list[ColleagueOut]:
    return [_colleague(state) for state in await _directory(services.reps.free_colleagues, who.rep_id,
                                                            datetime.now(UTC))]


@router.get("/me/follow-ups", response_model=list[FollowUpOut], responses=ONE,
            summary="The rep's open follow-ups (callbacks, e-mails to write), soonest first: what the rep's "
                    "calendar feed lists")
async def my_follow_ups(services: Services, who: Principal = Depends(require("rep"))) -> list[FollowUpOut]:
    return await _follow_ups(services, who.rep_id)


@router.get("/{rep_id}/follow-ups", response_model=list[FollowUpOut], responses=ONE,
            summary="A rep's open follow-ups, soonest first (a rep key: its own)")
async def follow_ups(rep_id: RepId, services: Services,
                     who: Principal = Depends(require("admin", "rep"))) -> list[FollowUpOut]:
    own_or_admin(who, rep_id)
    return await _follow_ups(services, rep_id)


async def _follow_ups(services: Services, rep_id: str) -> list[FollowUpOut]:
    await _directory(services.reps.get, rep_id)  # 404 for a rep that does not exist
    tasks = await blocking(services.integrations.calendar.tasks_for, rep_id)  # open ones, soonest first
    return [_follow_up(task) for task in tasks]


def _follow_up(task: CalendarTask) -> FollowUpOut:
    return FollowUpOut(transfer_id=task.transfer_id, kind=task.kind, due_at=task.due_at.astimezone(UTC),
                       prospect=prospect_of_title(task.title))


@router.get("/{rep_id}", response_model=RepOut | ColleagueOut, responses=ONE,
            summary="One rep (a rep key sees a colleague without contact details)")
async def get_rep(rep_id: RepId, services: Services,
                  who: Principal = Depends(require("admin", "rep"))) -> RepOut | ColleagueOut:
    return _seen_by(who, await _directory(services.reps.get, rep_id))


@router.patch("/{rep_id}", response_model=RepOut, responses=CHANGE,
              summary="Change a rep's profile, skills, capacity or hours (null clears email, phone, title, "
                      "expertise or slack_user_id)")
async def update_rep(rep_id: RepId, patch: RepPatch, services: Services, transfers: Transfers,
                     _: Principal = Depends(require("admin"))) -> RepOut:
    state = await _directory(services.reps.update, rep_id, patch)
    await transfers.hand_out_free_seats()
    return _out(state)


@router.put("/{rep_id}/presence", response_model=RepOut, responses=CHANGE,
            summary="Set presence: available, busy, away, offline")
async def set_presence(rep_id: RepId, body: PresenceBody, services: Services, transfers: Transfers,
                       who: Principal = Depends(require("admin", "rep"))) -> RepOut:
    own_or_admin(who, rep_id)
    state = await _directory(services.reps.set_presence, rep_id, body.status, datetime.now(UTC))
    await transfers.hand_out_free_seats(rep_id if body.status == "available" else None)
    return _out(state)


@router.get(
    "/{rep_id}/calendar.ics",
    response_class=Response,
    responses={200: {"description": "iCalendar (RFC 5545)",
                      "content": {"text/calendar": {"schema": {"type": "string"}}}}, **ONE},
    dependencies=[Depends(calendar_reader)],
    summary="The rep's follow-up tasks as an iCalendar feed: with the rep's calendar token (?token=), or a key",
)
async def calendar_feed(rep_id: RepId, services: Services):
    state = await _directory(services.reps.get, rep_id)
    tasks = await blocking(services.integrations.calendar.tasks_for, rep_id)
    return Response(render_ics(tasks, f"Warm Transfer: {state.profile.name}"), media_type="text/calendar")


@router.post("/{rep_id}/calendar-token", response_model=CalendarFeedOut, status_code=201, responses=ONE,
             summary="Issue the rep's calendar feed URL (shown once); it replaces the rep's previous one")
async def issue_calendar_token(rep_id: RepId, request: Request, services: Services,
                               who: Principal = Depends(require("admin", "rep"))) -> CalendarFeedOut:
    own_or_admin(who, rep_id)
    await _directory(services.reps.get, rep_id)
    token = await blocking(services.calendar_tokens.issue, rep_id, datetime.now(UTC))
    feed = request.url_for("calendar_feed", rep_id=rep_id).include_query_params(token=token)
    return CalendarFeedOut(url=str(feed))


@router.delete("/{rep_id}/calendar-token", status_code=204, response_class=Response, responses=ONE,
               summary="Revoke the rep's calendar feed URL")
async def revoke_calendar_token(rep_id: RepId, services: Services,
                                who: Principal = Depends(require("admin", "rep"))) -> None:
    own_or_admin(who, rep_id)
    await _directory(services.reps.get, rep_id)  # 404 for a rep that does not exist, as issuing answers
    await blocking(services.calendar_tokens.revoke, rep_id, datetime.now(UTC))


@router.get("/me/stream", response_class=Response, responses=EVENT_STREAM,
            summary="Server-sent events for the rep console: offers, notes, follow-ups")
async def my_stream(request: Request, services: Services, poll_seconds: StreamPollSeconds, key_valid: KeyStillValid,
                    after: int = Depends(resume_after), who: Principal = Depends(require("rep"))):
    outbox = services.outbox
    opened_at = await blocking(outbox.latest_id)  # what was told before: replayed only while still the rep's
    return outbox_stream(request, after, outbox.appended, poll_seconds,
                         lambda last_id: outbox.for_rep(who.rep_id, last_id, replayed_through=opened_at),
                         rep_topic(who.rep_id), key_valid)
