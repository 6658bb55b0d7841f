"""Bearer API keys with a role: bot, rep (bound to one rep) or admin; and the rep's calendar token, which reads only
that rep's calendar feed.

A key is only ever read from the Authorization header: a query string ends up in access logs, browser history,
Referer headers and calendar apps' settings."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Query, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import Services
from api.errors import ApiError
from api.threads import blocking
from domain.requests import RepId
from store.keys import KeyStore, Principal

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`")


async def principal_of(request: Request, credentials: HTTPAuthorizationCredentials | None,
                        keys: KeyStore) -> Principal:
    """The principal of the request's key, resolved once per request; 401 without a valid key."""
    found: Principal | None = getattr(request.state, "principal", None)
    if found is not None:
        return found
    if credentials is None:
        raise ApiError(401, "unauthorized", "Send an API key as 'Authorization: Bearer <key>'.")
    found = await _resolved(keys, credentials.credentials)
    if found is None:
        raise ApiError(401, "unauthorized", "Unknown or revoked API key.")
    request.state.principal = found
    return found


async def _resolved(keys: KeyStore, key: str) -> Principal | None:
    """The key's principal: remembered if it was resolved lately, else read; None for an unknown or revoked key."""
    return keys.remembered(key) or await blocking(keys.resolve, key)


async def principal(request: Request, services: Services,
                    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    return await principal_of(request, credentials, services.keys)


async def key_still_valid(services: Services, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
                          ) -> Callable[[], Awaitable[bool]]:
    """For a long-lived answer (an event stream): asks again whether the request's key is still valid, so a key
    revoked while its stream is open stops receiving (within KeyStore.remember_seconds in another process)."""
    async def check() -> bool:
        return credentials is not None and await _resolved(services.keys, credentials.credentials) is not None

    return check


KeyStillValid = Annotated[Callable[[], Awaitable[bool]], Depends(key_still_valid)]


def require(*roles: str) -> Callable:
    async def _check(who: Principal = Depends(principal)) -> Principal:
        return _in_role(who, roles)

    return _check


def _in_role(who: Principal, roles: tuple[str, ...]) -> Principal:
    if who.role not in roles:
        raise ApiError(403, "forbidden", f"This needs {_a(' or '.join(roles))} key; yours is {_a(who.role)} key.")
    return who


def _a(words: str) -> str:
    """`words` after its indefinite article: "a bot", "an admin"."""
    return f"{'an' if words[:1] in ('a', 'e', 'i', 'o', 'u') else 'a'} {words}"


def own_or_admin(who: Principal, rep_id: str) -> None:
    if who.role == "rep" and who.rep_id != rep_id:
        raise ApiError(403, "forbidden", "A rep key can only act on its own rep.")


class KeyFirstRoute(APIRoute):
    """A route that checks the API key before the request's body is read.

    FastAPI reads and parses a body before it runs any dependency, so a key checked by a dependency alone is
    checked after the body was received whole: anyone without a key could make the API read and parse a body as
    large as the limit allows. With this route class, a route that takes a body resolves the key first (the
    dependency then finds it resolved), and a request without a valid key is answered 401 without a byte of its
    body read. A route without a body reads nothing before its dependencies run."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def key_first(request: Request) -> Response:
            await self.check_key(request)
            return await handler(request)

        return key_first

    async def check_key(self, request: Request) -> None:
        """Raise 401 (ApiError) unless the request carries a valid key; a subclass may check another credential
        (the codec server's session cookie). It runs before the body is read, and leaves what it found for the
        route's dependencies."""
        await principal_of(request, await _bearer(request), request.app.state.services.keys)


async def calendar_reader(request: Request, rep_id: RepId, services: Services,
                          token: str | None = Query(None, max_length=100, description="The rep's calendar token "
                                                    "(`POST /v1/reps/{rep_id}/calendar-token`), for calendar apps, "
                                                    "which cannot send a key"),
                          credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    """Whoever may read `rep_id`'s calendar feed: its calendar token, or the rep's own key or an admin key."""
    if token is not None:
        if await blocking(services.calendar_tokens.rep_for, token) != rep_id:
            raise ApiError(401, "unauthorized", "Unknown or revoked calendar token for this feed.")
        return
    own_or_admin(_in_role(await principal_of(request, credentials, services.keys), ("admin", "rep")), rep_id)


async def metrics_scraper(request: Request, services: Services,
                          credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    """Whoever may scrape `/metrics` (business figures: conversion, satisfaction): the scrape token
    (`WT_METRICS_TOKEN`, which reads nothing else) or an admin key."""
    token: str | None = request.app.state.metrics_token
    if credentials is not None and token is not None and secrets.compare_digest(credentials.credentials.encode(),
                                                                                 token.encode()):
        return
    _in_role(await principal_of(request, credentials, services.keys), ("admin",))
