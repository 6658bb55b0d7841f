"""The three process shapes: `up` (the whole embedded stack in one process tree), and `api` / `worker`
(one part each, against a Temporal server elsewhere: the scale-out shape of docker-compose.yml).

Every shape stops on SIGINT/SIGTERM inside its event loop, in dependency order: the API first (no new
work), then the worker and the dispatchers, then, for `up`, the Temporal dev server.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from sse_starlette.sse import AppStatus
from temporalio.client import Client

from api.app import create_app
from api.deps import ApiServices
from config import DATA_DIR, LogFormat, Settings
from workers import children
from workers.demo import seed_demo
from workers.devserver import DevServer, StackError
from workers.runtime import settle_heap
from workers.secrets import admin_key, encryption_keys, kept_in
from workers.services import build_services
from workers.supervision import keep_alive
from workers.telemetry import Telemetry
from workers.temporal import TemporalConnection, data_converter
from workers.worker import connect_when_ready, deliver_outbox, run_worker

CONNECT_TIMEOUT = 60  # seconds `api` and `worker` wait for a Temporal server that is still starting
API_SHUTDOWN_GRACE = 5  # seconds open requests (SSE streams, too) get before they are cancelled
LOCALHOST = "127.0.0.1"  # `up` is a single-machine stack: its Temporal never listens beyond this host
# Every process that writes `up`'s outbox wakes its event streams through the wake-up directory, so their poll is
# only a safety net; at the default 0.2 s it cost each open rep console 0.75% of a core, idle
# (`git show ca8de1d:bench/README.md`, "Fifth pass").
UP_STREAM_POLL_SECONDS = 5.0
# `up` is a demo on one machine: bots under test there receive webhooks on this host (bench/latency.py does).
UP_CALLBACK_ALLOW = ["127.0.0.0/8", "::1"]
API_BACKLOG = 2048  # uvicorn's default


@dataclass
class UpOptions:
    temporal_port: int = 7233
    ui_port: int = 8233
    api_port: int | None = None  # None: WT_API_PORT
    data_dir: Path = DATA_DIR


def stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def bind_api_socket(host: str, port: int) -> socket.socket:
    """Bound and listening before anything starts, so a taken port fails at once with a clear message.

    It listens at once because a socket that is only bound does not hold its port on Linux: another socket
    with SO_REUSEADDR (every Go listener, the dev server's UI among them) may bind and listen on it, and the
    API would then fail to start behind a stranger answering on its port. Requests that arrive before the
    API serves wait in the backlog.

    The protocol is named so that asyncio turns Nagle's algorithm off on every connection it accepts: it
    only does so for sockets whose `proto` is TCP, and with Nagle on, a response written as headers then
    body waits for the client's delayed ACK, 40 ms on Linux, on about half of all calls.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(API_BACKLOG)
    except socket.gaierror as err:
        sock.close()
        raise StackError(f"WT_API_HOST={host} is not a valid address to listen on ({err.strerror}).") from err
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRNOTAVAIL:
            raise StackError(f"WT_API_HOST={host} is not an address of this host ({err.strerror}): use one of its "
                             "addresses, or 0.0.0.0 for all.") from err
        if err.errno in (errno.EACCES, errno.EPERM):
            raise StackError(f"API port {host}:{port}: not allowed to listen there ({err.strerror}); pick a port "
                             "above 1023 (--api-port or WT_API_PORT).") from err
        raise StackError(f"API port {host}:{port} is taken ({err.strerror}). Is another `warm-transfer up` or "
                         f"`api` running? Stop it, or pick another port (--api-port or WT_API_PORT).") from err
    return sock


class _UvicornWithoutSignals(uvicorn.Server):
    """uvicorn leaves signals to us: the stack decides when it stops, and in what order."""

    def capture_signals(self) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()


class ApiServer:
    def __init__(self, app: FastAPI, sock: socket.socket, log_level: str, log_format: LogFormat = "text"):
        # In JSON, uvicorn's own lines go through the process's log handler (workers/logs.py), not its text format.
        own_format = {"log_config": None} if log_format == "json" else {}
        config = uvicorn.Config(app, log_level=log_level, timeout_graceful_shutdown=API_SHUTDOWN_GRACE, **own_format)
        self.server = _UvicornWithoutSignals(config)
        self.sock = sock

    async def serve(self) -> None:
        AppStatus.should_exit = False  # a stack started again in this process serves streams again
        await self.server.serve(sockets=[self.sock])

    async def started(self, serving: asyncio.Task) -> None:
        while not self.server.started and not serving.done():
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        AppStatus.should_exit = True  # open event streams end now, not after the grace period with errors
        self.server.should_exit = True


async def serve_until(api: ApiServer, stop: asyncio.Event, others: tuple[asyncio.Task, ...] = (),
                      on_started: Callable[[], None] = lambda: None) -> None:
    """Serve the API until `stop` is set or the API or one of `others` ends (a failure), then stop it."""
    serving = asyncio.create_task(api.serve(), name="api")
    stopping = asyncio.create_task(stop.wait())
    try:
        await api.started(serving)
        if not serving.done():
            settle_heap()
            on_started()
        await asyncio.wait([stopping, serving, *others], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        api.stop()
        await serving


class WorkerProcess:
    """`up`'s worker (workflows and activities) in a process of its own, beside the API, which delivers the outbox:
    the work then shares the machine's cores instead of one interpreter's. The worker's outbox wake-ups reach
    the API's event streams and dispatchers through the wake-up directory (store.wakeup_relay)."""

    def __init__(self, settings: Settings, log_level: str):
        self.settings, self.log_level = settings, log_level
        self.process: asyncio.subprocess.Process | None = None

    def environment(self) -> dict[str, str]:
        """The settings `up` derived (see embedded_settings), on top of the environment it was given."""
        settings = self.settings
        secrets = {f"WT_{name.upper()}": value.get_secret_value() for name in ("encryption_keys", "webhook_secret")
                   if (value := getattr(settings, name)) is not None}
        return {**os.environ, **secrets, "WT_TEMPORAL_ADDRESS": settings.temporal_address,
                "WT_TEMPORAL_TLS": "false", "WT_TEMPORAL_API_KEY": "",  # its dev server, as the API connects to it
                "WT_DATABASE_URL": settings.database_url, "WT_WAKEUP_DIR": str(settings.wakeup_dir),
                "WT_DELIVER_OUTBOX": "false"}  # `up` delivers it from the API's process

    async def start(self) -> None:
        self.process = await children.spawn([sys.executable, "-m", "workers.cli", "--log-level", self.log_level,
                                             "worker"], env=self.environment())

    async def exited(self) -> int:
        return await self.process.wait()

    async def stop(self) -> None:
        await children.stop(self.process)


def embedded_settings(settings: Settings, options: UpOptions) -> Settings:
    """`up` runs its own Temporal on this host and keeps its data under the data dir (unless WT_DATABASE_URL); its
    processes share a wake-up directory, so its event streams poll seldom (unless WT_STREAM_POLL_SECONDS); webhooks
    may go to this host's loopback addresses (unless WT_CALLBACK_ALLOW). A StackError if two of its three ports are
    the same."""
    update: dict = {"temporal_address": f"{LOCALHOST}:{options.temporal_port}"}
    if options.api_port is not None:
        update["api_port"] = options.api_port
    ports = {"--temporal-port": options.temporal_port, "--ui-port": options.ui_port,
             "--api-port": update.get("api_port", settings.api_port)}
    if len(set(ports.values())) < len(ports):
        given = ", ".join(f"{flag} {port}" for flag, port in ports.items())
        raise StackError(f"`up` needs three different ports, one each for Temporal, its UI and the API ({given}).")
    if "database_url" not in settings.model_fields_set:
        update["database_url"] = f"sqlite:///{options.data_dir / 'app.db'}"
    if settings.wakeup_dir is None:
        update["wakeup_dir"] = options.data_dir / "wakeup"
    if "stream_poll_seconds" not in settings.model_fields_set:
        update["stream_poll_seconds"] = UP_STREAM_POLL_SECONDS
    update["codec_origins"] = [*settings.codec_origins, f"http://{LOCALHOST}:{options.ui_port}"]  # its own UI
    if "callback_allow" not in settings.model_fields_set:
        update["callback_allow"] = UP_CALLBACK_ALLOW
    return settings.model_copy(update=update)


async def up(settings: Settings, options: UpOptions, log_level: str) -> None:
    stop = stop_on_signals()
    keep_private(options.data_dir)
    settings = kept_in(options.data_dir, embedded_settings(settings, options))
    converter = data_converter(encryption_keys(settings))
    telemetry = Telemetry.of("api", sdk_metrics=settings.temporal_sdk_metrics)
    sock = bind_api_socket(settings.api_host, settings.api_port)
    devserver = DevServer(LOCALHOST, options.temporal_port, options.ui_port, options.data_dir, converter,
                          f"http://{settings.api_host}:{settings.api_port}/codec", settings.temporal_namespace,
                          interceptors=telemetry.interceptors, runtime=telemetry.runtime)
    worker = WorkerProcess(settings, log_level)
    supervising: tuple[asyncio.Task, ...] = ()
    try:
        client = await devserver.start()
        services = build_services(settings)
        keys = seed_demo(services, datetime.now(UTC))
        await worker.start()
        # Either dying is survived: the worker and the API reconnect to a dev server started again on the same data.
        supervising = (
            asyncio.create_task(keep_alive("The worker process", worker.exited, worker.start,
                                           lambda: "its log is above.")),
            asyncio.create_task(keep_alive("The Temporal dev server", devserver.exited, devserver.start_again,
                                           lambda: f"the last lines of {devserver.log_path}:\n{devserver.log_tail()}")))
        delivered = asyncio.Event()
        delivering = deliver_outbox(services, delivered, client)
        api = ApiServer(observed_app(settings, services, client, telemetry), sock, log_level, settings.log_format)
        try:
            async with telemetry.running():
                await serve_until(api, stop, supervising,
                                  on_started=lambda: _print_banner(settings, devserver, keys))
        finally:
            delivered.set()
            await asyncio.gather(*delivering)
        for child in supervising:
            if child.done():
                child.result()  # the StackError of a child that kept dying
        print("Stopping: the API is down; stopping the worker, then the Temporal dev server...", flush=True)
    finally:
        for child in supervising:
            child.cancel()  # before the children are stopped, or they would be started again
        sock.close()
        await worker.stop()
        await devserver.stop()
    print("Warm Transfer stopped cleanly.", flush=True)


def keep_private(data_dir: Path) -> None:
    """The data directory and what this process and its children write (the databases, with prospects' details;
    logs) are for the owner's eyes only; a directory an earlier version left open to others is closed."""
    os.umask(0o077)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if data_dir.stat().st_mode & 0o077 and data_dir.stat().st_uid == os.getuid():
        data_dir.chmod(0o700)


def _print_banner(settings: Settings, devserver: DevServer, keys: list[tuple[str, str]]) -> None:
    api_url = f"http://{settings.api_host}:{settings.api_port}"
    key_lines = "\n".join(f"  {who:<42} {key}" for who, key in keys)
    admin = "\n  WT_ADMIN_KEY is registered as an admin key too." if settings.admin_key else ""
    print(f"""
Warm Transfer is up.
  API          {api_url}
  API docs     {api_url}/docs
  Rep console  {api_url}/console
  Dashboard    {api_url}/dashboard
  Temporal UI  {devserver.ui_url}
Demo API keys (send as 'Authorization: Bearer <key>'):
{key_lines}{admin}
Data in {devserver.data_dir}/ (Temporal log: {devserver.log_path}).
Play the demo: .venv/bin/warm-transfer demo --api {api_url}    Stop: Ctrl-C
""", flush=True)


def observed_app(settings: Settings, services: ApiServices, client: Client, telemetry: Telemetry) -> FastAPI:
    """The API, traced when tracing is on, with the Temporal SDK's metrics on its `/metrics`."""
    app = create_app(settings, services, client, sdk_metrics=telemetry.sdk_metrics)
    telemetry.trace(app)
    return app


async def api_only(settings: Settings, log_level: str) -> None:
    telemetry = Telemetry.of("api", sdk_metrics=settings.temporal_sdk_metrics)
    admin_key(settings)  # the admin key it registers as it starts (api.app)
    # A missing key or an unreadable TLS file stops it before anything else.
    connection = telemetry.connection(settings, data_converter(encryption_keys(settings)))
    services = build_services(settings)
    stop = stop_on_signals()
    sock = bind_api_socket(settings.api_host, settings.api_port)
    try:
        client = await _connect(connection, stop)
        if client is not None:
            async with telemetry.running():
                await serve_until(ApiServer(observed_app(settings, services, client, telemetry), sock, log_level,
                                            settings.log_format), stop)
    finally:
        sock.close()


async def worker_only(settings: Settings) -> None:
    # A metrics address asks for the SDK's metrics: they are all the worker serves there.
    telemetry = Telemetry.of("worker",
                             sdk_metrics=settings.temporal_sdk_metrics or settings.worker_metrics_address is not None)
    # A missing key or an unreadable TLS file stops it before anything else.
    connection = telemetry.connection(settings, data_converter(encryption_keys(settings)))
    services = build_services(settings)
    stop = stop_on_signals()
    with _serving_metrics(settings.worker_metrics_address, telemetry):
        client = await _connect(connection, stop)
        if client is not None:
            settle_heap()
            async with telemetry.running():
                await run_worker(client, settings, services, stop)


@contextlib.contextmanager
def _serving_metrics(address: str | None, telemetry: Telemetry) -> Iterator[None]:
    """The worker's Prometheus endpoint, when WT_WORKER_METRICS_ADDRESS asks for one."""
    if address is None:
        yield
        return
    try:
        server = telemetry.sdk_metrics.serve(address)
    except OSError as err:
        raise StackError(f"WT_WORKER_METRICS_ADDRESS={address}: cannot listen there ({err.strerror}).") from err
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


async def _connect(connection: TemporalConnection, stop: asyncio.Event) -> Client | None:
    """The Temporal client of `api` and `worker`; None if they are stopped before Temporal answers."""
    return await connect_when_ready(connection, CONNECT_TIMEOUT, keep_trying=lambda: not stop.is_set())
