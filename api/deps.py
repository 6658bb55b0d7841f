"""Typed dependencies: what routers are handed. The app factory (api.app.create_app) receives the services;
routers declare what they need.

The providers are coroutines because FastAPI runs a plain function dependency in its thread pool: a thread hop
per dependency per request, for reading an attribute."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request

from api.briefs import Briefs
from api.transfer_client import TransferClient
from integrations.factory import Integrations
from integrations.triggers.base import TriggerEvaluator
from store.capacity import CapacityStore
from store.db import Database
from store.keys import CalendarTokenStore, KeyStore
from store.outbox import OutboxStore
from store.reps import RepStore


class ApiServices(Protocol):
    """What the API needs from the stores and integrations (workers.services.Services provides it)."""

    db: Database
    reps: RepStore
    capacity: CapacityStore
    keys: KeyStore
    calendar_tokens: CalendarTokenStore
    outbox: OutboxStore
    integrations: Integrations


async def _services(request: Request) -> ApiServices:
    return request.app.state.services


async def _transfers(request: Request) -> TransferClient:
    return request.app.state.transfers


async def _briefs(request: Request) -> Briefs:
    return request.app.state.briefs


async def _trigger_evaluator(request: Request) -> TriggerEvaluator:
    return request.app.state.trigger_evaluator


async def _stream_poll_seconds(request: Request) -> float:
    return request.app.state.poll_interval


Services = Annotated[ApiServices, Depends(_services)]
Transfers = Annotated[TransferClient, Depends(_transfers)]
BriefsService = Annotated[Briefs, Depends(_briefs)]
TriggerEvaluatorService = Annotated[TriggerEvaluator, Depends(_trigger_evaluator)]
StreamPollSeconds = Annotated[float, Depends(_stream_poll_seconds)]
