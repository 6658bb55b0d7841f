"""API keys, issued by an admin; the key is shown once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, model_validator

from api.auth import KeyFirstRoute, require
from api.deps import Services
from api.errors import ApiError, error_responses
from api.threads import blocking
from domain.requests import RepId
from store.keys import Principal

router = APIRouter(prefix="/v1/api-keys", tags=["admin"], route_class=KeyFirstRoute,
                   responses=error_responses(401, 403, 404, 413, 422))


class KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["bot", "rep", "admin"]
    rep_id: RepId | None = None

    @model_validator(mode="after")
    def _rep_keys_name_a_rep(self) -> KeyRequest:
        if (self.role == "rep") != (self.rep_id is not None):
            raise ValueError("a rep key needs rep_id, and only a rep key has one")
        return self


class KeyOut(BaseModel):
    key: str
    role: str
    rep_id: str | None = None


@router.post("", response_model=KeyOut, status_code=201, summary="Issue an API key")
async def issue_key(body: KeyRequest, services: Services, _: Principal = Depends(require("admin"))) -> KeyOut:
    if body.rep_id and not await blocking(services.reps.exists, body.rep_id):
        raise ApiError(404, "not_found", f"No rep {body.rep_id!r}.")
    key = await blocking(services.keys.issue, body.role, body.rep_id, datetime.now(UTC))
    return KeyOut(key=key, role=body.role, rep_id=body.rep_id)
