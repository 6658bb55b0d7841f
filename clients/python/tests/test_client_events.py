"""The event stream's reading without a server: fields until a blank line, pings skipped, the last id kept for
resuming, and the wait before reconnecting."""

from __future__ import annotations

import httpx
import pytest
from warm_transfer_client import Unavailable, UnexpectedAnswer, Unreachable
from warm_transfer_client.models import ErrorInfo
from warm_transfer_client.operations import Endpoint, EventStream


def stream(after: int | None = None, reconnects: int = 3) -> EventStream:
    return EventStream(Endpoint("http://127.0.0.1:1/", "wt_bot_x", "test"), "xfer 1/2", after, reconnects)


def fed(events: EventStream, text: str) -> list:
    return [event for line in text.split("\n") if (event := events.feed(line)) is not None]


def test_events_are_read_field_by_field_and_pings_skipped() -> None:
    events = stream()
    read = fed(events, ": ping\n\nid: 4\nevent: status\ndata: {\"transfer_id\": \"x\", \"seq\": 2,\ndata: "
                       "\"status\": \"offered\", \"detail\": \"Offered to Sarah\"}\n\nretry: 1500\n\n")
    [change] = read
    assert (change.id, change.kind, change.transfer_id) == (4, "status", "x")
    assert change.status_change is not None and change.status_change.status == "offered"
    assert not change.status_change.final and change.bot_line is None
    assert events.last_id == 4 and events.server_delay == 1.5


def test_each_connection_resumes_after_the_last_event_and_drops_a_half_read_one() -> None:
    events = stream(after=9)
    first = events.request()
    assert first.headers["Last-Event-ID"] == "9" and first.headers["Authorization"] == "Bearer wt_bot_x"
    assert first.url == "http://127.0.0.1:1/v1/transfers/xfer%201%2F2/events"
    fed(events, 'id: 10\nevent: csat_request\ndata: {"scale": [1, 5]}\n\nid: 11\nevent: status')  # cut here
    assert events.request().headers["Last-Event-ID"] == "10"
    assert fed(events, 'id: 11\nevent: csat_request\ndata: {}\n\n')[0].id == 11  # not mixed with the cut one
    assert "Last-Event-ID" not in stream().request().headers


def test_reconnects_wait_longer_each_time_then_give_up_with_the_last_failure() -> None:
    events = stream(reconnects=3)
    cut = httpx.ReadError("connection reset")
    assert [events.reconnect_delay(cut), events.reconnect_delay(None)] == [0.5, 1.0]
    busy = Unavailable(503, ErrorInfo(code="unavailable", message="Temporal"), "GET", "/", retry_after=2)
    assert events.reconnect_delay(busy) == 2
    with pytest.raises(Unreachable, match="ReadError"):
        events.reconnect_delay(cut)
    fed(events, 'id: 12\nevent: csat_request\ndata: {}\n\n')  # an event: the count starts again
    assert events.reconnect_delay(cut) == 0.5


def test_an_event_that_is_not_json_is_unexpected() -> None:
    with pytest.raises(UnexpectedAnswer):
        fed(stream(), "id: 1\nevent: status\ndata: not json\n\n")
