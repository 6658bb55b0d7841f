"""Every storage-backed test runs twice: on a fresh SQLite file and on a throw-away PostgreSQL database."""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest
from sqlmodel import SQLModel

from store.db import Database
from store.outbox import OutboxDelivery

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    try:
        admin = psycopg.connect(PG_DSN, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is unreachable: {exc}")
    name = f"wt_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    schema = Database(url)
    schema.create_all()
    schema.dispose()
    try:
        yield url
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.db'}"
        prepare = Database.create_all
    else:
        url = request.getfixturevalue("postgres_url")
        prepare = _truncate_all
    database = Database(url)
    prepare(database)
    database.dispose()
    return url


def _truncate_all(database: Database) -> None:
    tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
    with database.session() as session:
        session.connection().exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


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
