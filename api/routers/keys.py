"""API keys, managed by an admin: issued (the key is shown once), listed (never the key itself) and revoked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from api.auth import KeyFirstRoute, require
from api.deps import Services
from api.errors import ApiError, error_responses
from api.threads import blocking
from domain.requests import RepId
from store.keys import LastAdminKey, Principal
from store.tables import ApiKeyRow

router = APIRouter(prefix="/v1/api-keys", tags=["admin"], route_class=KeyFirstRoute,
                   responses=error_responses(401, 403))

KeyId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The key's id, as `GET /v1/api-keys` lists it")]


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
    id: int = Field(description="The key's id: how it is listed and revoked (`DELETE /v1/api-keys/{id}`)")


class KeyInfo(BaseModel):
    """A key as it is kept: its first characters, never the key."""

    id: int
    prefix: str = Field(description="The key's first 12 characters, to tell it apart")
    role: str
    rep_id: str | None = None
    created_at: AwareDatetime
    revoked_at: AwareDatetime | None = None
    setting: str | None = Field(None, description="`WT_ADMIN_KEY` for the admin key that setting stands for (or "
                                "stood for: revoked when the setting changed); null for a key issued here")

    @classmethod
    def of(cls, row: ApiKeyRow) -> KeyInfo:
        return cls(id=row.id, prefix=row.prefix, role=row.role, rep_id=row.rep_id, created_at=row.created_at,
                   revoked_at=row.revoked_at, setting=row.setting)


@router.post("", response_model=KeyOut, status_code=201, summary="Issue an API key",
             responses=error_responses(404, 413, 422))
async def issue_key(body: KeyRequest, services: Services, _: Principal = Depends(require("admin"))) -> KeyOut:
    if body.rep_id and not await blocking(services.reps.exists, body.rep_id):
        raise ApiError(404, "not_found", f"No rep {body.rep_id!r}.")
    key = await blocking(services.keys.issue, body.role, body.rep_id, datetime.now(UTC))
    principal = services.keys.remembered(key) or await blocking(services.keys.resolve, key)
    return KeyOut(key=key, role=body.role, rep_id=body.rep_id, id=principal.key_id)


@router.get("", response_model=list[KeyInfo], summary="List the API keys")
async def list_keys(services: Services, _: Principal = Depends(require("admin"))) -> list[KeyInfo]:
    return [KeyInfo.of(row) for row in await blocking(services.keys.listed)]


@router.delete("/{key_id}", response_model=KeyInfo, summary="Revoke an API key",
               responses=error_responses(404, 409, 422),
               description="The key stops working at once on this API process, and within 30 seconds on others "
               "(each remembers a key it resolved that long). Revoking a revoked key changes nothing (200). The last "
               "admin key not revoked cannot be revoked (409): issue another first. Revoking the key of "
               "`WT_ADMIN_KEY` is for good: set a new value to have one again.")
async def revoke_key(key_id: KeyId, services: Services, _: Principal = Depends(require("admin"))) -> KeyInfo:
    try:
        row = await blocking(services.keys.revoke, key_id, datetime.now(UTC))
    except LastAdminKey:
        raise ApiError(409, "conflict", "This is the last admin key not revoked: issue another admin key before "
                       "revoking it.") from None
    if row is None:
        raise ApiError(404, "not_found", f"No API key {key_id}.")
    return KeyInfo.of(row)
