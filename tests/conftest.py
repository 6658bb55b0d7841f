"""Shared fixtures: real Temporal servers from the venv's binaries, real databases, free ports."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import icalendar
import psycopg
import pytest
from aiosmtpd.controller import Controller
from sqlmodel import SQLModel
from temporalio.testing import WorkflowEnvironment

from store.db import Database
from store.schema import migrate
from tests import fixtures
from workers.codec import KeyRing
from workers.devserver import dynamic_config_args
from workers.temporal import data_converter

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]
PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"
# The tests run encrypted, as the product does, with a key of their own: fixed, so recorded histories replay.
TEST_KEY_RING = "test-1:dGVzdHMgb25seSwgbmV2ZXIgYSByZWFsIGtleTogMzI="
CONVERTER = data_converter(KeyRing.parse(TEST_KEY_RING))
os.environ.setdefault("WT_ENCRYPTION_KEYS", TEST_KEY_RING)
os.environ.setdefault("WT_WEBHOOK_SECRET", "tests-webhook-secret-0123456789abcdef")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The session's exit status for tests/run.py, written once: by the process that controls pytest-xdist's
    workers (or runs the tests itself), not by each worker."""
    record = os.environ.get("WT_TEST_RESULT_FILE")
    if record and not hasattr(session.config, "workerinput"):
        Path(record).write_text(json.dumps({"exitstatus": int(exitstatus)}))


def free_ports(count: int) -> list[int]:
    """`count` different free loopback ports (all held at once while chosen, so no two are the same)."""
    with ExitStack() as held:
        socks = [held.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


def free_port() -> int:
    return free_ports(1)[0]


@pytest.fixture
async def time_skipping_env():
    """A fresh time-skipping server per test: skipped time and leftover workflows never leak between tests."""
    env = await start_time_skipping_server()
    yield env
    await env.shutdown()


async def start_time_skipping_server(attempts: int = 3) -> WorkflowEnvironment:
    """The time-skipping test server. The SDK gives it 5 s to answer, and a busy host can stall its start past
    that, so a start that fails is tried again."""
    return await _first_start(lambda: WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"), data_converter=CONVERTER), attempts)


async def start_dev_server(flags: list[str] | None = None, attempts: int = 3) -> WorkflowEnvironment:
    """The real Temporal dev server, in memory, on a free loopback port, with `flags` (by default our dynamic
    config, as `make up` runs it). Another process can take the port between the check and the server's
    bind, so a start that fails is tried again on another port."""
    args = ["--log-level", "error", *(dynamic_config_args() if flags is None else flags)]
    return await _first_start(lambda: WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"), ip="127.0.0.1", port=free_port(), ui=False,
        data_converter=CONVERTER, dev_server_extra_args=args), attempts)


async def _first_start(start: Callable[[], Awaitable[WorkflowEnvironment]], attempts: int) -> WorkflowEnvironment:
    """The first of up to `attempts` starts that succeeds; the last one's error if none does."""
    for _ in range(attempts - 1):
        with suppress(RuntimeError):
            return await start()
    return await start()


@pytest.fixture(scope="session")
async def local_env():
    """The real Temporal dev server (what `make up` runs, with its dynamic config)."""
    env = await start_dev_server()
    yield env
    await env.shutdown()


@pytest.fixture
def acme_context() -> dict:
    return fixtures.acme_context()


def postgres_admin() -> psycopg.Connection:
    """An autocommit connection to the PostgreSQL server's `test` database (skips the test if there is no server)."""
    try:
        return psycopg.connect(PG_ADMIN_DSN, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is unreachable: {exc}")


@contextmanager
def throwaway_postgres(prefix: str) -> Iterator[str]:
    """The URL of an empty PostgreSQL database of its own, dropped afterwards (skips if there is no server)."""
    admin = postgres_admin()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL database with the schema, dropped after the session."""
    with throwaway_postgres("wt_test") as url:
        schema = Database(url)
        migrate(schema)
        schema.dispose()
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """Storage tests run twice: on a fresh SQLite file and on the emptied PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.db'}"
        prepare = migrate
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
    in_flight: int = 0
    most_in_flight: int = 0  # the most requests it was handling at once

    def respond(self, *statuses: int) -> None:
        for status in statuses:
            self.statuses.put(status)


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # http.server naming; the tests' output stays readable
        pass


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[ThreadingHTTPServer]:
    """`handler` serving on a free loopback port, in a thread of its own, until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Drip:
    """A `drip_server`: its port, the connections it still holds (the client has not closed them) and the bytes it
    sent in all."""

    port: int
    held: int = 0
    sent: int = 0

    def let_go(self, within: float = 3.0) -> bool:
        """True once the client has closed every connection (within `within` seconds)."""
        until = time.monotonic() + within
        while self.held and time.monotonic() < until:
            time.sleep(0.02)
        return self.held == 0


@contextmanager
def drip_server(head: bytes, piece: bytes, every: float) -> Iterator[Drip]:
    """A server on loopback that answers each connection with `head`, then `piece` every `every` seconds for as long
    as the client keeps the connection (what it is sent is never read): a server too slow, or an answer too large,
    for a client to wait for to the end. Stopped, and its connections closed, when the block ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)  # to see `stopping`
    drip, lock, stopping, connections = Drip(listener.getsockname()[1]), threading.Lock(), threading.Event(), []

    def serve(connection: socket.socket) -> None:
        with suppress(OSError):  # the client closed the connection
            connection.sendall(head)
            while not stopping.wait(every):
                connection.sendall(piece)
                with lock:
                    drip.sent += len(piece)
        with lock:
            drip.held -= 1

    def accept() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed: the block has ended
                return
            with lock:
                drip.held += 1
                connections.append(connection)
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield drip
    finally:
        stopping.set()
        listener.close()
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    lock = threading.Lock()

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # http.server naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                state.in_flight += 1
                state.most_in_flight = max(state.most_in_flight, state.in_flight)
            time.sleep(state.delay)
            with lock:
                state.in_flight -= 1
                state.requests.append(Received(self.path, dict(self.headers), body))
            try:
                status = state.statuses.get_nowait()
            except queue.Empty:
                status = 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with http_server(Handler) as server:
        state = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks")
        yield state


class Inbox:
    """aiosmtpd handler: keeps every message; answers with `reply` (a 5xx simulates a refusing server)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.reply = "250 Message accepted"
        self.refuse_recipients = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # aiosmtpd hook name
        if self.refuse_recipients:
            return f"550 5.1.1 <{address}>: no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd hook name
        if self.reply.startswith("250"):
            self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return self.reply


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on loopback (aiosmtpd), stopped after the test."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


@pytest.fixture
def chat_model():
    """A fake OpenAI-compatible language model on loopback: a ChatServer (tests/integrations/chat_server.py)."""
    from tests.integrations.chat_server import chat_server  # which takes Received from here

    with chat_server() as server:
        yield server


@dataclass
class Radicale:
    """A real CalDAV server (Radicale) on loopback: `url_template` is each rep's calendar, as WT_CALDAV_URL takes it."""

    base: str
    username: str
    password: str

    @property
    def url_template(self) -> str:
        return self.base + "/{rep_id}/calendar/"

    def client(self) -> httpx.Client:
        return httpx.Client(auth=(self.username, self.password), timeout=10)

    def make_calendar(self, rep_id: str) -> None:
        with self.client() as client:
            assert client.request("MKCOL", f"{self.base}/{rep_id}/").status_code == 201
            assert client.request("MKCALENDAR", f"{self.base}/{rep_id}/calendar/").status_code == 201

    def calendar(self, rep_id: str) -> icalendar.Calendar:
        """Everything in the rep's calendar, as one iCalendar (Radicale's answer to a GET of the collection)."""
        with self.client() as client:
            response = client.get(f"{self.base}/{rep_id}/calendar/")
        assert response.status_code == 200, response.text
        return icalendar.Calendar.from_ical(response.content)


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[Radicale]:
    """Radicale on a free loopback port, its storage and htpasswd file under tmp_path; any user it knows may write
    every calendar (a service account with delegated access, as WT_CALDAV_USERNAME is). Stopped after the test."""
    folder = tmp_path / "radicale"
    folder.mkdir()
    (folder / "users").write_text("warm-transfer:dav-s3cret\n")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{port}",
         "--storage-filesystem-folder", str(folder / "storage"), "--auth-type", "htpasswd",
         "--auth-htpasswd-filename", str(folder / "users"), "--auth-htpasswd-encryption", "plain",
         "--rights-type", "authenticated", "--logging-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Radicale(f"http://127.0.0.1:{port}", "warm-transfer", "dav-s3cret")
    try:
        for _ in range(200):  # up to 20 s on a loaded machine
            with suppress(httpx.HTTPError), server.client() as client:
                client.request("OPTIONS", server.base + "/")
                break
            assert process.poll() is None, "Radicale exited"
            time.sleep(0.1)
        else:
            raise AssertionError("Radicale did not answer within 20 s")
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
