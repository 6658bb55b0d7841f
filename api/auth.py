"""Bearer API keys with a role: bot, rep (bound to one rep) or admin."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import Services
from api.errors import ApiError
from api.threads import blocking
from store.keys import Principal

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`")


async def principal(request: Request, services: Services,
                    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    key = credentials.credentials if credentials else request.query_params.get("key")
    if not key:
        raise ApiError(401, "unauthorized", "Send an API key as 'Authorization: Bearer <key>'.")
    found = services.keys.remembered(key) or await blocking(services.keys.resolve, key)
    if found is None:
        raise ApiError(401, "unauthorized", "Unknown or revoked API key.")
    return found


def require(*roles: str) -> Callable:
    async def _check(who: Principal = Depends(principal)) -> Principal:
        if who.role not in roles:
            raise ApiError(403, "forbidden", f"This needs a {' or '.join(roles)} key; yours is a {who.role} key.")
        return who

    return _check
