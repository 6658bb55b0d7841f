"""`warm-transfer up` on free ports, `warm-transfer demo` against it, then Ctrl-C: all as real processes."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.up_process import BIN, CLEAN_STOP, Running, children, gone, running_up


@pytest.fixture
def up(tmp_path: Path) -> Iterator[tuple[Running, dict, int]]:
    with running_up(tmp_path) as running:
        yield running


@pytest.mark.e2e
@pytest.mark.timeout(120)
def test_up_serves_the_demo_and_stops_cleanly_on_ctrl_c(up: tuple[Running, dict, int], tmp_path: Path) -> None:
    stack, ports, devserver = up
    api = f"http://127.0.0.1:{ports['api']}"
    for url in (api, f"{api}/docs", f"{api}/console", f"{api}/dashboard", f"http://127.0.0.1:{ports['ui']}"):
        assert url in stack.output
        # A URL printed is a page that answers.
        assert httpx.get(url, timeout=10, follow_redirects=True).status_code == 200
    for key in ("wt_admin_demo", "wt_bot_demo", "wt_rep_sarah_demo"):
        assert key in stack.output
    secrets = tmp_path / "data" / "secrets"  # made on the first run, for its owner's eyes only
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in secrets.iterdir()} == {
        "encryption-keys": "0o600", "webhook-secret": "0o600"}
    data = tmp_path / "data"  # the databases hold prospects' details: the owner's alone, as what `up` writes there
    assert oct(data.stat().st_mode & 0o777) == "0o700"
    for database in ("app.db", "temporal.db"):
        assert (data / database).stat().st_mode & 0o077 == 0, database

    demo = subprocess.run([str(BIN), "demo", "--api", api], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert re.search(r"^\s+\(a\) seed scenario.* completed\s+outcome demo_booked", demo.stdout, re.M), demo.stdout
    assert re.search(r"^\s+\(b\) queued.* completed\s+was queued at #1, offered", demo.stdout, re.M), demo.stdout
    assert re.search(r"^\s+\(c\) after hours.* async_follow_up\s+follow-up at \d{4}-", demo.stdout, re.M)
    assert "Sarah     accept" in demo.stdout  # the preferred rep took it, with her own key
    # The demo's bot evaluates each conversation and starts the transfer with the evaluation (through the bots'
    # client): every transfer counts under a trigger category.
    metrics = httpx.get(f"{api}/v1/metrics", headers={"Authorization": "Bearer wt_admin_demo"}, timeout=10).json()
    assert "unknown" not in metrics["metrics"]["by_category"] and metrics["metrics"]["transfers"] == 4, metrics
    again = subprocess.run([str(BIN), "demo", "--api", api], cwd=tmp_path, capture_output=True, text=True,
                           timeout=60)
    assert again.returncode == 0, again.stdout + again.stderr  # every run leaves the team free for the next

    [worker] = [pid for pid, args in children(stack.process.pid) if b"worker" in args and b"workers.cli" in args]
    for child in (worker, devserver):
        assert os.getpgid(child) == child  # a group of its own, so a Ctrl-C in the terminal reaches only `up`
    started = time.monotonic()
    stack.process.send_signal(signal.SIGINT)
    code = stack.process.wait(timeout=20)
    assert time.monotonic() - started < 20
    stack.wait_for_line(CLEAN_STOP, timeout=5)
    # The Temporal SDK can abort at interpreter exit (temporalio/sdk-python#300), after everything was
    # stopped inside the loop; that abort changes nothing once the clean-stop line is out.
    assert code in (0, -signal.SIGABRT), stack.output
    assert gone(devserver), "the Temporal dev server outlived `up`"
    assert gone(worker), "the worker process outlived `up`"


@pytest.mark.e2e
@pytest.mark.timeout(120)
def test_a_notice_the_worker_process_writes_wakes_the_apis_event_stream(tmp_path: Path) -> None:
    """`up`'s worker runs in a process of its own; the offer it writes reaches the rep's open stream through the
    wake-up relay, with the stream's own poll set far beyond the test's patience."""
    with running_up(tmp_path, {"WT_STREAM_POLL_SECONDS": "60"}) as (stack, ports, _):
        api = f"http://127.0.0.1:{ports['api']}"
        offers: queue.Queue[dict] = queue.Queue()
        opened = threading.Event()

        def read_priyas_stream() -> None:
            headers = {"Authorization": "Bearer wt_rep_priya_demo"}
            with httpx.stream("GET", f"{api}/v1/reps/me/stream", headers=headers, timeout=None) as stream:
                opened.set()
                event = None
                for line in stream.iter_lines():
                    if line.startswith("event:"):
                        event = line.split(":", 1)[1].strip()
                    elif line.startswith("data:") and event == "offer":
                        offers.put(json.loads(line.split(":", 1)[1]))
                        return

        threading.Thread(target=read_priyas_stream, daemon=True).start()
        assert opened.wait(10)
        time.sleep(1)  # the stream has read its (empty) backlog and waits on its wake-up
        bot = {"Authorization": "Bearer wt_bot_demo"}
        body = {"routing": {"team": "smb"}, "context": {"prospect": {"name": "Kim Park", "company": "Tiny Co"}}}
        started = httpx.post(f"{api}/v1/transfers", json=body, headers=bot, timeout=30)
        assert started.status_code == 201, started.text
        transfer_id = started.json()["transfer_id"]
        proceeded = httpx.post(f"{api}/v1/transfers/{transfer_id}/prospect", json={"action": "proceed"},
                               headers=bot, timeout=30)
        assert proceeded.json()["status"] == "offered", proceeded.text
        assert offers.get(timeout=20)["transfer_id"] == transfer_id


@pytest.mark.e2e
@pytest.mark.timeout(120)
def test_a_worker_process_killed_mid_transfer_is_started_again_and_the_transfer_goes_on(tmp_path: Path) -> None:
    with running_up(tmp_path) as (stack, ports, _):
        api = f"http://127.0.0.1:{ports['api']}"
        bot, priya = {"Authorization": "Bearer wt_bot_demo"}, {"Authorization": "Bearer wt_rep_priya_demo"}

        def call(path: str, body: dict, headers: dict) -> dict:
            answer = httpx.post(f"{api}{path}", json=body, headers=headers, timeout=60)
            assert answer.status_code in (200, 201), answer.text
            return answer.json()

        started = call("/v1/transfers", {"routing": {"team": "smb"}, "context": {"prospect": {"name": "Ola"}}}, bot)
        transfers = f"/v1/transfers/{started['transfer_id']}"
        assert call(f"{transfers}/prospect", {"action": "proceed"}, bot)["status"] == "offered"

        def workers() -> list[int]:
            return [pid for pid, args in children(stack.process.pid) if b"workers.cli" in args and b"worker" in args]

        [killed] = workers()
        os.kill(killed, signal.SIGKILL)
        stack.wait_for_line("starting it again", timeout=20)
        assert call(f"{transfers}/rep", {"action": "accept"}, priya)["status"] == "connecting"
        assert call(f"{transfers}/rep", {"action": "ack"}, priya)["status"] == "connected"
        assert call(f"{transfers}/rep", {"action": "outcome", "outcome": "demo_booked"}, priya)["status"] == "completed"
        assert workers() and killed not in workers()
