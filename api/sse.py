"""Server-sent events from the outbox: resumable with Last-Event-ID (or ?after=), polled while idle."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from fastapi import Request
from sse_starlette.sse import EventSourceResponse


def outbox_stream(request: Request, fetch: Callable[[int], list]) -> EventSourceResponse:
    after = int(request.headers.get("last-event-id") or request.query_params.get("after") or 0)

    async def stream():
        nonlocal after
        while not await request.is_disconnected():
            rows = await request.app.state.run_sync(fetch, after)
            for row in rows:
                after = row.id
                yield {"id": str(row.id), "event": row.kind, "data": json.dumps(row.payload)}
            if not rows:
                await asyncio.sleep(request.app.state.poll_interval)

    return EventSourceResponse(stream(), ping=15)
