"""Shared fixtures: real Temporal servers from the venv's binaries, real databases, free ports."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    record = os.environ.get("WT_TEST_RESULT_FILE")
    if record:
        Path(record).write_text(json.dumps({"exitstatus": int(exitstatus)}))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def time_skipping_env():
    """A fresh time-skipping server per test: skipped time and leftover workflows never leak between tests."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"), data_converter=pydantic_data_converter)
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def local_env():
    """The real Temporal dev server (what `make up` runs), in memory, on a free loopback port."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"), ip="127.0.0.1", port=free_port(), ui=False,
        data_converter=pydantic_data_converter,
        dev_server_extra_args=["--log-level", "error"])
    yield env
    await env.shutdown()


@pytest.fixture
def acme_context() -> dict:
    return json.loads((SHARED / "examples" / "context_package_acme.json").read_text())
