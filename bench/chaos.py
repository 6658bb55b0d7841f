"""Faults against the product as shipped: transfers through every branch while `warm-transfer up` loses its
worker, its Temporal dev server and its API, and afterwards a check that nothing was lost, doubled or overbooked.

    .venv/bin/python -m bench.chaos [--transfers 200] [--rate 1] [--seed 19]

Starts `up` (its own process: dev server on SQLite, worker, API) with a team of reps, then bots play transfers
arriving at `--rate` per second over HTTP, each through one branch in turn: immediate; declined and re-routed;
queued then offered (a holder takes the only seat first); callback (the rep schedules it); e-mail (from the queue);
after hours; failed and recovered (no take-over in time); prospect left. Every bot has a webhook (a real HTTP
receiver on loopback). Meanwhile:
- the worker process is SIGKILLed at random moments, more than RESTART_WINDOW / RESTARTS seconds apart (`up`
  starts it again, and gives up on one that dies three times in a minute);
- the Temporal dev server hangs for a few seconds (SIGSTOP: unreachable, and every request that needs it must
  get a 503), then is SIGKILLed (`up` starts it again on the same database);
- `up` itself, the API's process, is stopped and started again on the same data, while bots retry: on a
  connection error or a 503 each call is repeated as it was, a start with the same `transfer_id`; an admin's
  changes to the demo reps `up` seeds must survive it.
Afterwards, from the API and the app database: every transfer in its branch's terminal state and branch; no rep
ever above capacity (sampled throughout, and the seat table at the end); each bot event delivered under one
`X-WT-Event-Id` (the same event again after a crash is allowed, one event under two ids is not); every outcome
and feedback the API acknowledged stored; SQLite's integrity check of the app database. Writes
bench/results/chaos.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from bench import stack as bench_stack
from bench.flows import webhook_receiver
from bench.stack import Api, Stack, children, running_stack, steady, summary, transfer_id, write_result
from workers import event_loop
from workers.demo import BOT_KEY, after_hours_shift
from workers.supervision import RESTART_WINDOW, RESTARTS

# Each branch, and the terminal status and recorded branch it must end in.
BRANCHES: dict[str, tuple[str, str]] = {
    "immediate": ("completed", "immediate"),
    "declined": ("completed", "immediate"),
    "queued": ("completed", "queued"),
    "callback": ("callback_scheduled", "callback"),
    "email": ("email_follow_up", "email"),
    "after_hours": ("async_follow_up", "async"),
    "failed": ("callback_scheduled", "failed"),
    "left": ("cancelled", "cancelled"),
}
TEAM, TEAM_REPS, NIGHT_TZ = "chaos", 8, "Europe/Berlin"
# Long enough that a fault never makes an offer lapse, nor a take-over late, except where the branch wants it.
SETTINGS = {"WT_OFFER_TIMEOUT": "600", "WT_ACK_TIMEOUT": "60"}
WORKER_KILL_SPACING = RESTART_WINDOW / (RESTARTS - 1) + 1  # seconds: never three deaths within `up`'s window
CALL_PATIENCE = 120  # seconds a bot keeps retrying one call
HUNG_SECONDS = 5  # how long the dev server hangs (SIGSTOP) before it is killed
ERROR_LINE = re.compile(r"^(\w+(?:\.\w+)*(?:Error|Exception)): ", re.M)  # a traceback's last line
OUTCOME = "demo_booked"


class ChaosError(Exception):
    """A call did not go as the branch expects."""


@dataclass
class Played:
    transfer_id: str
    branch: str
    outcome_acknowledged: bool = False
    feedback_acknowledged: set[str] = field(default_factory=set)
    error: str | None = None
    seconds: float = 0.0  # how long its bot took, faults included


@dataclass
class Faults:
    """What the bots met: calls repeated, and how long each 503 took to come."""

    worker_kills: int = 0
    devserver_kills: int = 0
    up_restarts: int = 0
    repeated_calls: int = 0
    connection_errors: int = 0
    # Actions refused (409) on their first call because the transfer was already where they lead: taken once by a
    # retry inside the API's Temporal client while the dev server went down, with nothing changed by the refusal.
    refused_as_already_taken: int = 0
    unavailable_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # per reason
    admin_changes_kept: bool | None = None  # a demo rep's capacity and another's presence, across `up`'s restart


class Bots:
    """Bots and reps over HTTP, each call repeated as it was on a connection error or a 503."""

    def __init__(self, stack: Api, webhook_url: str, faults: Faults, bot_key: str = BOT_KEY):
        self.stack, self.webhook_url, self.faults, self.bot_key = stack, webhook_url, faults, bot_key
        self.http = stack.http(timeout=60)

    async def call(self, method: str, path: str, key: str, body: dict | None = None) -> tuple[httpx.Response, bool]:
        """The first answer that is not a 503, and whether the call had to be repeated (its outcome was in doubt)."""
        repeated, deadline = False, time.monotonic() + CALL_PATIENCE
        while time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                answer = await self.http.request(method, path, json=body, headers={"Authorization": f"Bearer {key}"})
            except httpx.TransportError:
                self.faults.connection_errors += 1
            else:
                if answer.status_code != 503:
                    return answer, repeated
                reason = re.split("[:;]", answer.json()["error"]["message"])[0]
                self.faults.unavailable_ms[reason].append((time.perf_counter() - began) * 1000)
            repeated = True
            self.faults.repeated_calls += 1
            await asyncio.sleep(0.5)
        raise ChaosError(f"{method} {path}: no answer but 503s and errors for {CALL_PATIENCE} s")

    async def view(self, tid: str) -> dict:
        answer, _ = await self.call("GET", f"/v1/transfers/{tid}", self.bot_key)
        return _ok(answer, f"GET {tid}")

    async def start(self, tid: str, team: str) -> dict:
        body = {"transfer_id": tid, "routing": {"team": team}, "bot": {"callback_url": self.webhook_url},
                "context": {"prospect": {"name": f"Prospect {tid}", "email": f"{tid}@example.com",
                                         "phone": "+1 555 010 2000", "company": "Chaos Inc"},
                            "transfer_reason": "wants a demo"}}
        answer, _ = await self.call("POST", "/v1/transfers", self.bot_key, body)
        return _ok(answer, f"start {tid}")

    async def act(self, tid: str, path: str, body: dict, key: str, leads_to: set[str]) -> dict:
        """An action that leads to one of `leads_to`. Refused after a repeat (ours, or the Temporal client's own
        inside the API while the dev server goes down), it may have been taken the first time: then the transfer is
        already there."""
        answer, repeated = await self.call("POST", f"/v1/transfers/{tid}/{path}", key, body)
        if answer.status_code == 409:
            view = await self.view(tid)
            if view["status"] in leads_to:
                self.faults.refused_as_already_taken += not repeated
                return view
        view = _ok(answer, f"{tid} {body}")
        if view["status"] not in leads_to:
            raise ChaosError(f"{tid} {body}: {view['status']}, expected {sorted(leads_to)}")
        return view

    async def prospect(self, tid: str, leads_to: set[str], **body: str) -> dict:
        return await self.act(tid, "prospect", body, self.bot_key, leads_to)

    async def rep(self, tid: str, rep_id: str, leads_to: set[str], **body: str) -> dict:
        return await self.act(tid, "rep", body, self.stack.rep_keys[rep_id], leads_to)

    async def until(self, tid: str, status: str, patience: float = CALL_PATIENCE) -> dict:
        deadline = time.monotonic() + patience
        while (view := await self.view(tid))["status"] != status:
            if time.monotonic() > deadline:
                raise ChaosError(f"{tid} still {view['status']} after {patience:.0f} s, expected {status}")
            await asyncio.sleep(0.5)
        return view

    async def feedback(self, played: Played, rep_id: str) -> None:
        rep_says = {"from": "rep", "context_helpful": True, "prospect_repeated": False}
        for source, key, body in (("rep", self.stack.rep_keys[rep_id], rep_says),
                                  ("prospect", self.bot_key, {"from": "prospect", "csat": 5})):
            answer, repeated = await self.call("POST", f"/v1/transfers/{played.transfer_id}/feedback", key, body)
            if answer.status_code == 200 or (answer.status_code == 409 and repeated):
                played.feedback_acknowledged.add(source)
            else:
                raise ChaosError(f"{played.transfer_id} {source} feedback: {answer.status_code} {answer.text}")

    async def to_the_end(self, played: Played, rep_id: str) -> None:
        """From `offered` to `rep_id`: accept, take over, the prospect replies, the outcome, both feedbacks."""
        tid = played.transfer_id
        await self.connect(tid, rep_id)
        await self.prospect(tid, {"connected"}, action="replied")
        await self.rep(tid, rep_id, {"completed"}, action="outcome", outcome=OUTCOME)
        played.outcome_acknowledged = True
        await self.feedback(played, rep_id)

    async def connect(self, tid: str, rep_id: str) -> None:
        await self.rep(tid, rep_id, {"connecting"}, action="accept")
        await self.rep(tid, rep_id, {"connected"}, action="ack")


async def final_view(bots: Bots, tid: str) -> dict:
    """The transfer's view at the end, or why the API could not give it."""
    try:
        return await bots.view(tid)
    except ChaosError as err:
        return {"unreadable": str(err)}


async def keep_unreadable_histories(stack: Stack, transfer_ids: list[str], most: int = 3) -> None:
    """The Temporal histories of (at most `most`) transfers the API could not read at the end, in
    results/chaos_unreadable.json (in place of any earlier run's), to replay and find out why."""
    path = bench_stack.RESULTS / "chaos_unreadable.json"  # read here: tests point RESULTS elsewhere
    if transfer_ids:
        client = await stack.temporal()
        histories = {tid: json.loads((await client.get_workflow_handle(tid).fetch_history()).to_json())
                     for tid in transfer_ids[:most]}
        path.write_text(json.dumps(histories) + "\n")


def _ok(answer: httpx.Response, what: str) -> dict:
    if answer.status_code not in (200, 201):
        raise ChaosError(f"{what}: HTTP {answer.status_code} {answer.text[:300]}")
    return answer.json()


class Branches:
    """Each branch played by a bot and its reps; each appends the transfers it played (a holder, too)."""

    def __init__(self, bots: Bots):
        self.bots = bots
        self.played: list[Played] = []

    def _new(self, branch: str, mine: list[Played]) -> Played:
        played = Played(transfer_id("chaos"), branch)
        self.played.append(played)
        mine.append(played)
        return played

    async def _offered(self, branch: str, mine: list[Played], team: str = TEAM) -> tuple[Played, str]:
        played = self._new(branch, mine)
        await self.bots.start(played.transfer_id, team)
        view = await self.bots.prospect(played.transfer_id, {"offered"}, action="proceed")
        return played, view["rep"]["id"]

    async def immediate(self, n: int, mine: list[Played]) -> None:
        played, rep_id = await self._offered("immediate", mine)
        await self.bots.to_the_end(played, rep_id)

    async def declined(self, n: int, mine: list[Played]) -> None:
        played, first = await self._offered("declined", mine)
        view = await self.bots.rep(played.transfer_id, first, {"offered"}, action="decline", reason="in a call")
        if view["rep"]["id"] == first:
            raise ChaosError(f"{played.transfer_id}: declined by {first}, offered to {first} again")
        await self.bots.to_the_end(played, view["rep"]["id"])

    async def _holder(self, n: int, mine: list[Played]) -> tuple[Played, str, str]:
        """A transfer holding the only seat of the n-th solo team (connected): (holder, team, rep)."""
        team = solo_team(n)
        holder, rep_id = await self._offered("immediate", mine, team)
        await self.bots.connect(holder.transfer_id, rep_id)
        return holder, team, rep_id

    async def _release(self, holder: Played, rep_id: str) -> None:
        await self.bots.prospect(holder.transfer_id, {"connected"}, action="replied")
        await self.bots.rep(holder.transfer_id, rep_id, {"completed"}, action="outcome", outcome=OUTCOME)
        holder.outcome_acknowledged = True
        await self.bots.feedback(holder, rep_id)

    async def _queued(self, n: int, branch: str, mine: list[Played]) -> tuple[Played, Played, str]:
        """A transfer queued behind the holder of the n-th solo team's only seat: (holder, queued, their rep)."""
        holder, team, rep_id = await self._holder(n, mine)
        played = self._new(branch, mine)
        await self.bots.start(played.transfer_id, team)
        await self.bots.prospect(played.transfer_id, {"queued"}, action="proceed")
        return holder, played, rep_id

    async def queued(self, n: int, mine: list[Played]) -> None:
        holder, played, rep_id = await self._queued(n, "queued", mine)
        await self.bots.prospect(played.transfer_id, {"queued"}, action="wait")
        await self._release(holder, rep_id)
        await self.bots.until(played.transfer_id, "offered")
        await self.bots.to_the_end(played, rep_id)

    async def callback(self, n: int, mine: list[Played]) -> None:
        played, rep_id = await self._offered("callback", mine)
        callback_at = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        await self.bots.rep(played.transfer_id, rep_id, {"callback_scheduled"}, action="schedule_callback",
                            callback_at=callback_at)

    async def email(self, n: int, mine: list[Played]) -> None:
        holder, played, rep_id = await self._queued(n, "email", mine)
        await self.bots.prospect(played.transfer_id, {"email_follow_up"}, action="email")
        await self._release(holder, rep_id)

    async def after_hours(self, n: int, mine: list[Played]) -> None:
        played = self._new("after_hours", mine)
        view = await self.bots.start(played.transfer_id, "night")
        if view["status"] != "after_hours":
            raise ChaosError(f"{played.transfer_id}: {view['status']}, expected after_hours")
        await self.bots.prospect(played.transfer_id, {"async_follow_up"}, action="email")

    async def failed(self, n: int, mine: list[Played]) -> None:
        played, rep_id = await self._offered("failed", mine)
        await self.bots.rep(played.transfer_id, rep_id, {"connecting"}, action="accept")
        await self.bots.until(played.transfer_id, "recovering")  # nobody takes over in time
        await self.bots.prospect(played.transfer_id, {"callback_scheduled"}, action="callback")

    async def left(self, n: int, mine: list[Played]) -> None:
        played = self._new("left", mine)
        await self.bots.start(played.transfer_id, TEAM)
        await self.bots.prospect(played.transfer_id, {"cancelled"}, action="left")

    async def play(self, n: int) -> None:
        """The n-th arrival plays the n-th branch, in turn; what goes wrong is kept with its transfer."""
        branch, mine, began = branch_of(n), [], time.monotonic()
        try:
            await getattr(self, branch)(n, mine)
        except ChaosError as err:
            for played in mine or [self._new(branch, mine)]:
                played.error = played.error or str(err)
        for played in mine:
            played.seconds = time.monotonic() - began


async def kill_workers(stack: Stack, faults: Faults, rng: random.Random, seconds: float, until: asyncio.Event,
                       paused: asyncio.Lock) -> None:
    """SIGKILL `up`'s worker at random moments: the first within the arrivals' span, then never three times within
    `up`'s restart window."""
    wait = rng.uniform(0.2, 0.6) * seconds
    while not until.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(until.wait(), wait)
        if until.is_set():
            return
        async with paused:
            if _signal(stack, b"workers.cli", signal.SIGKILL):
                faults.worker_kills += 1
        wait = rng.uniform(WORKER_KILL_SPACING, WORKER_KILL_SPACING * 1.5)


def _signal(stack: Stack, marker: bytes, sig: signal.Signals) -> bool:
    """Send `sig` to the child of `up` whose command line holds `marker`."""
    for pid in children(stack.process.pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if marker in cmdline.read():
                    os.kill(pid, sig)
                    return True
        except (FileNotFoundError, ProcessLookupError):
            continue
    return False


async def one_of_each(stack: Stack, faults: Faults, seconds: float, paused: asyncio.Lock) -> None:
    """The dev server hung for HUNG_SECONDS at 40% of the arrivals' span (unreachable: the API must answer 503 at
    once), then killed; `up` restarted at 70%, after an admin changed two of the demo reps it seeds (they must stay
    changed)."""
    await asyncio.sleep(0.4 * seconds)
    async with paused:
        if _signal(stack, b"start-dev", signal.SIGSTOP):
            await asyncio.sleep(HUNG_SECONDS)
            _signal(stack, b"start-dev", signal.SIGCONT)
        if _signal(stack, b"start-dev", signal.SIGKILL):
            faults.devserver_kills += 1
    await asyncio.sleep(0.3 * seconds)
    async with paused, stack.http() as admin:
        changed = [await admin.patch("/v1/reps/sarah", json={"capacity": 7}),
                   await admin.put("/v1/reps/alex/presence", json={"status": "offline"})]
        await stack.restart()
        faults.up_restarts += 1
        sarah, alex = (await admin.get("/v1/reps/sarah")).json(), (await admin.get("/v1/reps/alex")).json()
        faults.admin_changes_kept = (all(answer.status_code == 200 for answer in changed)
                                     and sarah["rep"]["capacity"] == 7 and alex["presence"] == "offline")


async def sample_capacity(stack: Api, samples: list[dict], until: asyncio.Event) -> None:
    """Every rep's seats against their capacity, twice a second, for as long as `up` answers."""
    async with stack.http(timeout=5) as admin:
        while not until.is_set():
            try:
                answer = await admin.get("/v1/reps")
            except httpx.HTTPError:
                answer = None
            if answer is not None and answer.status_code == 200:
                samples.append({r["rep"]["id"]: (r["active"], r["rep"]["capacity"]) for r in answer.json()})
            await asyncio.sleep(0.5)


class Deliveries:
    """What the bots' webhook received: each event's X-WT-Event-Id, and the event it carried."""

    def __init__(self) -> None:
        self.ids_per_event: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        self.received = 0

    def on_event(self, headers: dict[str, str], event: dict) -> None:
        self.received += 1
        identity = (event["transfer_id"], event["kind"], json.dumps(event["payload"], sort_keys=True))
        self.ids_per_event[identity].add(headers["x-wt-event-id"])

    def summary(self) -> dict:
        return {"received": self.received, "events": len(self.ids_per_event),
                "repeats": self.received - sum(len(ids) for ids in self.ids_per_event.values()),
                "events_under_two_ids": sum(len(ids) > 1 for ids in self.ids_per_event.values())}


def branch_of(n: int) -> str:
    """The n-th arrival's branch: each in turn."""
    return list(BRANCHES)[n % len(BRANCHES)]


def solo_team(n: int) -> str:
    """The team of one rep with one seat that the n-th arrival queues for (queued and e-mail branches)."""
    return f"solo-{n}"


async def add_team(stack: Api, arrivals: int) -> None:
    """The reps every branch needs, before anything fails: the team's, an off-shift one, and the solo teams."""
    for n in range(TEAM_REPS):
        await stack.add_rep(f"chaos-rep-{n}", capacity=10, team=TEAM)
    await stack.add_rep("night-rep", team="night", working_hours=after_hours_shift(datetime.now(UTC), NIGHT_TZ))
    for n in range(arrivals):
        if branch_of(n) in ("queued", "email"):
            await stack.add_rep(solo_team(n), capacity=1, team=solo_team(n))


def check(query: Callable[[str], list[tuple]], bots_played: list[Played], views: dict[str, dict],
          samples: list[dict]) -> dict:
    """What ended where it should, from the API's views and the app database (`query` runs SQL there)."""
    stored = dict(query("SELECT transfer_id, status FROM transfers"))
    outcomes = dict(query("SELECT transfer_id, outcome FROM transfers WHERE outcome IS NOT NULL"))
    feedback = {(t, s) for t, s in query("SELECT transfer_id, source FROM feedback")}
    capacity = dict(query("SELECT id, capacity FROM reps"))
    seats = dict(query("SELECT rep_id, COUNT(*) FROM seats GROUP BY rep_id"))
    active = dict(query("SELECT id, active FROM reps"))
    right, wrong = Counter(), []
    for played in bots_played:
        status, branch = BRANCHES[played.branch]
        view = views.get(played.transfer_id, {})
        if played.error is None and (view.get("status"), view.get("branch"), stored.get(played.transfer_id)) == (
                status, branch, status):
            right[played.branch] += 1
        else:
            wrong.append({"transfer_id": played.transfer_id, "branch": played.branch,
                          "error": played.error or view.get("unreadable"),
                          "status": view.get("status"), "stored_status": stored.get(played.transfer_id),
                          "recorded_branch": view.get("branch")})
    over_capacity = [{"rep": rep, "active": a, "capacity": c} for sample in samples
                     for rep, (a, c) in sample.items() if a > c]
    return {
        "transfers": len(bots_played),
        "by_branch": dict(Counter(p.branch for p in bots_played)),
        "in_the_right_terminal_state": sum(right.values()),
        "seconds_per_branch": {name: summary([p.seconds for p in bots_played if p.branch == name])
                               for name in BRANCHES},
        "wrong": wrong,
        "outcomes_acknowledged": sum(p.outcome_acknowledged for p in bots_played),
        "outcomes_lost": [p.transfer_id for p in bots_played
                          if p.outcome_acknowledged and outcomes.get(p.transfer_id) != OUTCOME],
        "feedback_acknowledged": sum(len(p.feedback_acknowledged) for p in bots_played),
        "feedback_lost": [(p.transfer_id, s) for p in bots_played for s in p.feedback_acknowledged
                          if (p.transfer_id, s) not in feedback],
        "capacity_samples": len(samples),
        "over_capacity_samples": over_capacity,
        "seats_over_capacity_at_end": {rep: n for rep, n in seats.items() if n > capacity.get(rep, 0)},
        "seats_held_at_end": sum(seats.values()),
        "active_not_matching_seats": {rep: a for rep, a in active.items() if a != seats.get(rep, 0)},
    }


async def main(transfers: int = 200, rate: float = 1.0, seed: int = 19, settings: dict[str, str] | None = None) -> dict:
    rng = random.Random(seed)
    deliveries, faults = Deliveries(), Faults()
    receiver = await webhook_receiver(deliveries.on_event)
    webhook_url = f"http://127.0.0.1:{receiver.sockets[0].getsockname()[1]}/hooks"
    seconds = transfers / rate
    async with running_stack(settings={**SETTINGS, **(settings or {})}) as stack:
        await add_team(stack, transfers)
        bots = Bots(stack, webhook_url, faults)
        branches = Branches(bots)
        done, samples, paused = asyncio.Event(), [], asyncio.Lock()
        background = [asyncio.create_task(kill_workers(stack, faults, rng, seconds, done, paused)),
                      asyncio.create_task(sample_capacity(stack, samples, done))]
        began = time.monotonic()
        try:
            async with asyncio.TaskGroup() as running:  # one failing stops the other: no `up` left half restarted
                running.create_task(steady(rate, transfers, branches.play))
                running.create_task(one_of_each(stack, faults, seconds, paused))
        finally:
            done.set()
            await asyncio.gather(*background)
        elapsed = time.monotonic() - began
        await asyncio.sleep(2)  # the last webhooks on their way
        views = {p.transfer_id: await final_view(bots, p.transfer_id) for p in branches.played}
        db = sqlite3.connect(f"file:{stack.data_dir / 'app.db'}?mode=ro", uri=True)
        try:
            checked = check(lambda sql: db.execute(sql).fetchall(), branches.played, views, samples)
        finally:
            db.close()
        await keep_unreadable_histories(stack, [tid for tid, view in views.items() if "unreadable" in view])
        store_check = stack.store_check()
        up_log = (stack.data_dir / "up.log").read_text(errors="replace")
        await bots.http.aclose()
    receiver.close()
    result = {
        "arrivals": transfers, "rate_per_second": rate, "seed": seed, "seconds": round(elapsed, 1),
        **checked,
        "webhooks": deliveries.summary(),
        "faults": {"worker_kills": faults.worker_kills, "devserver_kills": faults.devserver_kills,
                   "up_restarts": faults.up_restarts, "admin_changes_kept": faults.admin_changes_kept,
                   "repeated_calls": faults.repeated_calls,
                   "refused_as_already_taken": faults.refused_as_already_taken,
                   "connection_errors": faults.connection_errors,
                   "503_ms_by_reason": {reason: summary(ms) for reason, ms in faults.unavailable_ms.items()}},
        "tracebacks_in_up_log": up_log.count("Traceback"),
        "errors_in_up_log": dict(Counter(ERROR_LINE.findall(up_log))),
        "store_check": store_check,
    }
    write_result("chaos", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transfers", type=int, default=200, help="arrivals, each one branch (default 200)")
    parser.add_argument("--rate", type=float, default=1.0, help="arrivals per second (default 1)")
    parser.add_argument("--seed", type=int, default=19, help="the random moments' seed (default 19)")
    arguments = parser.parse_args()
    figures = event_loop.run(main(arguments.transfers, arguments.rate, arguments.seed))
    print(json.dumps({name: value for name, value in figures.items() if name != "wrong"}, indent=2))
    if figures["wrong"]:
        print(f"{len(figures['wrong'])} transfers did not end as their branch should, e.g. {figures['wrong'][:3]}")
