"""Server-sent events from the outbox: resumable with Last-Event-ID (or ?after=); idle streams wake on an
append in this process or relayed from others (store.wakeup), and poll for appends nobody relayed."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from fastapi import Header, Query, Request
from sse_starlette.sse import EventSourceResponse

from api.threads import blocking
from store.wakeup import Wakeup

EVENT_STREAM = {200: {"description": "Server-sent events (`id`, `event`, `data`: JSON), until the client leaves",
                      "content": {"text/event-stream": {"schema": {"type": "string"}}}}}
_ID_END = 2**63  # an event id is an outbox row's id, a 64-bit signed integer in the database


async def resume_after(
    last_event_id: int | None = Header(None, ge=0, lt=_ID_END, description="The id of the last event received: the "
                                       "stream resumes after it (EventSource sends it when it reconnects)"),
    after: int | None = Query(None, ge=0, lt=_ID_END, description="As Last-Event-ID, for clients that cannot set "
                              "headers; Last-Event-ID wins"),
) -> int:
    """Where a stream starts: after the event id the client names (0: from the first)."""
    return last_event_id if last_event_id is not None else after or 0


def outbox_stream(request: Request, after: int, appended: Wakeup, poll_seconds: float, fetch: Callable[[int], list],
                  topic: str, key_valid: Callable[[], Awaitable[bool]]) -> EventSourceResponse:
    """Rows from `fetch(after_id)` after the event id `after`, as they come; woken by `appended` on `topic` (see
    store.outbox.rep_topic), and looking every `poll_seconds` for rows no wake-up told of. It ends once `key_valid`
    says the caller's key was revoked: a client that comes back is refused (401)."""

    async def stream():
        nonlocal after
        while not await request.is_disconnected() and await key_valid():
            mark = appended.mark()
            rows = await blocking(fetch, after)
            for row in rows:
                after = row.id
                yield {"id": str(row.id), "event": row.kind, "data": json.dumps(row.payload)}
            if not rows:
                await appended.wait(mark, poll_seconds, topic)

    return EventSourceResponse(stream(), ping=15)
