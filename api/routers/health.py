"""Probes: `/healthz`, the process answers (liveness); `/readyz`, it can do its work: Temporal and the app database
answer (readiness: a load balancer sends it no requests until then)."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.errors import ErrorBody, error_body
from api.reachability import CHECK_TIMEOUT, retrieve_outcome
from api.threads import blocking
from store.db import Database

router = APIRouter(tags=["ops"])
Check = Literal["ok", "down"]


class Health(BaseModel):
    ok: bool = True


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, Check]


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
async def healthz() -> Health:
    return Health()


@router.get("/readyz", response_model=Readiness, summary="Readiness: Temporal and the app database answer",
            responses={503: {"model": ErrorBody, "description": "Temporal or the app database does not answer; "
                             "`details` says which (`unavailable`)"}})
async def readyz(request: Request) -> Readiness | JSONResponse:
    checks: dict[str, Check] = {
        # The API watches Temporal's health twice a second (api/reachability.py).
        "temporal": "ok" if request.app.state.transfers.reachability.reachable else "down",
        "database": "ok" if await request.app.state.database_check.answers() else "down",
    }
    down = [name for name, state in checks.items() if state == "down"]
    if down:
        message = f"Not ready: {' and '.join(down)} {'does' if len(down) == 1 else 'do'} not answer."
        return JSONResponse(error_body("unavailable", message, checks), status_code=503)
    return Readiness(ready=True, checks=checks)


class DatabaseCheck:
    """Whether the app database answers a query within CHECK_TIMEOUT. One query at a time: against a database that
    hangs, each probe would otherwise leave one more thread waiting on it."""

    def __init__(self, db: Database):
        self.db = db
        self._query: asyncio.Task[bool] | None = None

    async def answers(self) -> bool:
        if self._query is None or self._query.done():
            self._query = asyncio.create_task(blocking(self.db.ping))
            self._query.add_done_callback(retrieve_outcome)
        try:
            return await asyncio.wait_for(asyncio.shield(self._query), CHECK_TIMEOUT)
        except TimeoutError:
            return False
