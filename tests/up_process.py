"""A real `warm-transfer up` in a process of its own, on free ports, and the processes it runs, for tests that drive
it as a user does (tests/workers, tests/chaos)."""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_ports

BIN = Path(sys.executable).parent / "warm-transfer"
CLEAN_STOP = "Warm Transfer stopped cleanly."


class Running:
    """A child process whose output is collected line by line on a thread (so reads never block the test)."""

    def __init__(self, args: list[str], cwd: Path, settings: dict[str, str] | None = None):
        # Only the flags and `settings` configure it, not this machine's WT_* variables.
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("WT_")}, **(settings or {})}
        self.process = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True)
        self.lines: list[str] = []
        self._new: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            self._new.put(line)
        self._new.put(None)

    def wait_for_line(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._new.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no {text!r} within {timeout} s:\n{self.output}")
            if line is None:
                pytest.fail(f"exited ({self.process.poll()}) before printing {text!r}:\n{self.output}")
            if text in line:
                return

    @property
    def output(self) -> str:
        return "".join(self.lines)


def devserver_pid(temporal_port: int) -> int:
    """The dev server that this test's `up` started: the only one on this test's free port."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                args = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"start-dev" in args and str(temporal_port).encode() in args:
                return int(entry.name)
    pytest.fail(f"no Temporal dev server on port {temporal_port}")


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def children(pid: int) -> list[tuple[int, list[bytes]]]:
    """A process's children and their command lines."""
    found = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        with contextlib.suppress(OSError):
            found.append((int(child), Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")))
    return found


@contextlib.contextmanager
def running_up(tmp_path: Path, settings: dict[str, str] | None = None) -> Iterator[tuple[Running, dict, int]]:
    """A running `up` on free ports, its ports, and its dev server's pid. Started again, on other ports, if the dev
    server lost a port to another test's server between its choice and its start (its own HTTP port is one it picks
    itself)."""
    for attempt in (1, 2):
        ports = dict(zip(("temporal", "ui", "api"), free_ports(3), strict=True))
        stack = Running([str(BIN), "up", "--temporal-port", str(ports["temporal"]), "--ui-port", str(ports["ui"]),
                         "--api-port", str(ports["api"]), "--data-dir", str(tmp_path / "data")], cwd=tmp_path,
                        settings=settings)
        try:
            stack.wait_for_line("Play the demo", timeout=40)
            break
        except pytest.fail.Exception:
            if stack.process.poll() is None:
                stack.process.kill()
            stack.process.wait()
            log = tmp_path / "data" / "temporal.log"
            if attempt == 2 or not log.exists() or "address already in use" not in log.read_text(errors="replace"):
                raise
            shutil.rmtree(tmp_path / "data")
    devserver = None
    try:
        devserver = devserver_pid(ports["temporal"])
        yield stack, ports, devserver
    finally:  # whatever happened, leave no server running
        if stack.process.poll() is None:
            stack.process.kill()
            stack.process.wait()
        if devserver is not None and not gone(devserver):
            os.kill(devserver, signal.SIGKILL)
