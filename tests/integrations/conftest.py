"""Integration test helpers; `db` and `db_url` (SQLite and PostgreSQL) come from tests/conftest.py."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from store.db import Database
from store.outbox import OutboxDelivery


def delivery_state(db: Database, outbox_id: int, channel: str) -> OutboxDelivery:
    with db.session() as session:
        return session.get(OutboxDelivery, (outbox_id, channel))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A bot's webhook endpoint on loopback: records every request, answers with queued statuses (then 200)."""

    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    delay: float = 0.0

    def respond(self, *statuses: int) -> None:
        for status in statuses:
            self.statuses.put(status)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(state.delay)
            with lock:
                state.requests.append(Received(self.path, dict(self.headers), body))
            try:
                status = state.statuses.get_nowait()
            except queue.Empty:
                status = 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
