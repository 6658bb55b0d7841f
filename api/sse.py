"""Server-sent events from the outbox: resumable with Last-Event-ID (or ?after=); idle streams wake on an
append in this process, and poll for appends made by other processes."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import Request
from sse_starlette.sse import EventSourceResponse


def outbox_stream(request: Request, fetch: Callable[[int], list], topic: str) -> EventSourceResponse:
    """Rows from `fetch(after_id)` as they come; woken by appends on `topic` (see store.outbox.rep_topic)."""
    after = int(request.headers.get("last-event-id") or request.query_params.get("after") or 0)

    async def stream():
        nonlocal after
        appended = request.app.state.services.outbox.appended
        while not await request.is_disconnected():
            mark = appended.mark()
            rows = await request.app.state.run_sync(fetch, after)
            for row in rows:
                after = row.id
                yield {"id": str(row.id), "event": row.kind, "data": json.dumps(row.payload)}
            if not rows:
                await appended.wait(mark, request.app.state.poll_interval, topic)

    return EventSourceResponse(stream(), ping=15)
