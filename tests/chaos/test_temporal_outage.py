"""A real `warm-transfer up` through a Temporal outage: its dev server hung, then killed (and started again by `up`),
then `up` stopped with requests in flight. Requests that need Temporal are answered 503 with Retry-After, the
database's reads and writes keep working, the transfer under way carries on, and nothing ends in a traceback in
`up`'s log. (What an admin changed surviving a restart of `up`: tests/chaos/test_campaign.py.)"""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.up_process import CLEAN_STOP, Running, children, running_up

BOT = {"Authorization": "Bearer wt_bot_demo"}
ADMIN = {"Authorization": "Bearer wt_admin_demo"}
PRIYA = {"Authorization": "Bearer wt_rep_priya_demo"}
START = {"routing": {"team": "smb"}, "context": {"prospect": {"name": "Ola Nordmann", "company": "Fjord AS"}}}


def _refused_for_temporal(answer: httpx.Response) -> bool:
    return (answer.status_code == 503 and answer.json()["error"]["code"] == "unavailable"
            and int(answer.headers["Retry-After"]) > 0)


def _worker_pid(stack: Running) -> int:
    [worker] = [pid for pid, args in children(stack.process.pid) if b"workers.cli" in args and b"worker" in args]
    return worker


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_up_rides_out_a_temporal_outage(tmp_path: Path) -> None:
    with running_up(tmp_path) as (stack, ports, devserver):
        api = httpx.Client(base_url=f"http://127.0.0.1:{ports['api']}", timeout=60)
        started = api.post("/v1/transfers", json={**START, "transfer_id": "ola"}, headers=BOT)
        assert started.status_code == 201, started.text
        assert api.post("/v1/transfers/ola/prospect", json={"action": "proceed"}, headers=BOT).json()["status"] == \
            "offered"

        os.kill(devserver, signal.SIGSTOP)  # hung: nothing answers on its port
        try:
            assert _refused_for_temporal(api.get("/v1/transfers/ola", headers=BOT))
            assert _refused_for_temporal(api.post("/v1/transfers", json={**START, "transfer_id": "kim"}, headers=BOT))
            assert _refused_for_temporal(api.post("/v1/transfers/ola/rep", json={"action": "accept"}, headers=PRIYA))
            # What needs only the app database still answers, changes to the directory included.
            assert api.get("/v1/reps", headers=ADMIN).status_code == 200
            assert api.get("/v1/metrics", headers=ADMIN).status_code == 200
            assert api.get("/metrics", headers=ADMIN).status_code == 200
            assert api.get("/console").status_code == 200
            assert api.post("/v1/api-keys", json={"role": "bot"}, headers=ADMIN).status_code == 201
            changed = api.patch("/v1/reps/sarah", json={"capacity": 7}, headers=ADMIN)
            assert changed.status_code == 200 and changed.json()["rep"]["capacity"] == 7
            presence = api.put("/v1/reps/alex/presence", json={"status": "offline"}, headers=ADMIN)
            assert presence.status_code == 200 and presence.json()["presence"] == "offline"
        finally:
            os.kill(devserver, signal.SIGCONT)

        os.kill(devserver, signal.SIGKILL)
        stack.wait_for_line("The Temporal dev server exited (code -9); starting it again.", timeout=30)
        # The API and the worker reconnect by themselves: the transfer under way carries on from where it was.
        assert _until_answered(api, "/v1/transfers/ola").json()["status"] == "offered"
        for action, status in (("accept", "connecting"), ("ack", "connected")):
            acted = api.post("/v1/transfers/ola/rep", json={"action": action}, headers=PRIYA)
            assert acted.json()["status"] == status, acted.text
        done = api.post("/v1/transfers/ola/rep", json={"action": "outcome", "outcome": "converted"}, headers=PRIYA)
        assert done.json()["status"] == "completed"
        retried = api.post("/v1/transfers", json={**START, "transfer_id": "kim"}, headers=BOT)
        assert retried.status_code == 201, retried.text  # refused during the outage, so never started

        # `up` stops while requests (starts, a read) wait for a worker that does not answer: each still gets its 503.
        worker = _worker_pid(stack)
        os.kill(worker, signal.SIGSTOP)
        with ThreadPoolExecutor(4) as callers:
            waiting = [callers.submit(api.post, "/v1/transfers", json={**START, "transfer_id": f"late-{n}"},
                                      headers=BOT) for n in range(3)]
            waiting.append(callers.submit(api.get, "/v1/transfers/ola", headers=BOT))  # a read, too
            stack.process.send_signal(signal.SIGINT)
            answers = [call.result() for call in waiting]
        os.kill(worker, signal.SIGCONT)
        assert all(_refused_for_temporal(answer) for answer in answers), [a.text for a in answers]
        stack.process.wait(timeout=60)
        stack.wait_for_line(CLEAN_STOP, timeout=5)
        api.close()
    assert "Traceback" not in stack.output and "never retrieved" not in stack.output, stack.output


def _until_answered(api: httpx.Client, path: str) -> httpx.Response:
    """The first answer other than a 503: Temporal is back (the client's retries span its start-up)."""
    for _ in range(120):
        answer = api.get(path, headers=BOT)
        if answer.status_code != 503:
            return answer
        assert _refused_for_temporal(answer)
        time.sleep(0.5)
    pytest.fail(f"{path} still answered 503 a minute after the dev server was started again")
