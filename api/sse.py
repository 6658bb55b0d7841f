"""Server-sent events from the outbox: resumable with Last-Event-ID (or ?after=); idle streams wake on an
append in this process, and poll for appends made by other processes."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import Request
from sse_starlette.sse import EventSourceResponse

from api.threads import blocking
from store.wakeup import Wakeup


def outbox_stream(request: Request, appended: Wakeup, poll_seconds: float, fetch: Callable[[int], list],
                  topic: str) -> EventSourceResponse:
    """Rows from `fetch(after_id)` as they come; woken by `appended` on `topic` (see store.outbox.rep_topic), and
    looking every `poll_seconds` for rows no wake-up told of."""
    after = int(request.headers.get("last-event-id") or request.query_params.get("after") or 0)

    async def stream():
        nonlocal after
        while not await request.is_disconnected():
            mark = appended.mark()
            rows = await blocking(fetch, after)
            for row in rows:
                after = row.id
                yield {"id": str(row.id), "event": row.kind, "data": json.dumps(row.payload)}
            if not rows:
                await appended.wait(mark, poll_seconds, topic)

    return EventSourceResponse(stream(), ping=15)
