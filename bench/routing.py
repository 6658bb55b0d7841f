"""Routing and the queue at scale: choosing a rep among many, and queue operations with many waiting.

    .venv/bin/python -m bench.routing [--reps 10000] [--queued 10000] [--rounds 300]
                                      [--db sqlite|postgres|both] [--profile]

Each database gets a fresh store (a SQLite file in a temporary folder; a uniquely named PostgreSQL
database on 127.0.0.1:5432, dropped afterwards), filled with a realistic directory: several teams of
uneven size, languages, skills, capacities 1-4, presences, and working hours in several time zones
(some reps are off shift at the measured instant). Then, through the real CapacityStore:

- place_seat / release_seat: `place` choosing a rep among all reps (the transfer is seated), then its
  `release`, repeated;
- with `--queued` transfers waiting (every available rep full, nobody else free):
  queue_place (a new transfer joins the queue), queue_release_head (a team's head leaves, the rest of
  that team's line moves up), release_seated (a rep's transfer ends and the freed seat goes to the
  queue) and dispatch_after_presence (a rep with room becomes available, then `dispatch`);
- rank: the pure `domain.routing.rank` over every RepState; list_team: `RepStore.list(team)`.

After each set-up step the heap is settled (workers.runtime.settle_heap) as the serving processes do;
without it, about 1 operation in 100 took a full garbage collection over the set-up heap (200-250 ms here).
On PostgreSQL the tables are then vacuumed and analysed (`settle_tables`), as autovacuum would have done.

Results (p50/p99 ms, wall clock and this process's CPU time) go to bench/results/routing.json, with the
load average before and after (other work on the machine inflates wall-clock times; the CPU time is the
client's own share).
`--profile` prints a cProfile of the place_seat and queue loops instead of only timing them.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import insert, text
from sqlmodel import select

from domain.reps import WEEKDAYS, RepProfile
from domain.requests import Routing
from domain.routing import rank
from store.capacity import CapacityStore
from store.db import Database
from store.reps import RepStore
from store.schema import migrate
from store.tables import QueueRow, SeatRow
from tests.conftest import PG_ADMIN_DSN
from workers.runtime import settle_heap

RESULTS = Path(__file__).parent / "results"
NOW = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)  # a Monday afternoon in Europe, morning in the Americas
TEAMS = {"enterprise": 0.35, "smb": 0.25, "mid-market": 0.2, "partners": 0.12, "renewals": 0.08}
LANGUAGES = ["en", "de", "fr", "es", "zh", "ja", "pt"]
SKILLS = ["pricing", "security", "integrations", "billing", "onboarding", "compliance", "analytics",
          "api", "migration", "procurement", "sso", "reporting"]
ZONES = ["UTC", "Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles",
         "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney"]
SHIFTS = [
    {d: [("09:00", "17:00")] for d in WEEKDAYS[:5]},
    {d: [("08:00", "12:00"), ("13:00", "18:00")] for d in WEEKDAYS[:5]},
    {d: [("00:00", "24:00")] for d in WEEKDAYS},
    {d: [("14:00", "22:00")] for d in WEEKDAYS[:6]},
]
PRESENCES = (["available"] * 40) + (["busy"] * 20) + (["away"] * 10) + (["offline"] * 30)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(latencies_ms: list[float]) -> dict:
    return {"n": len(latencies_ms), "p50": round(statistics.median(latencies_ms), 2),
            "p99": round(_quantile(latencies_ms, 0.99), 2), "max": round(max(latencies_ms), 2)}


class Timer:
    """Collects the latency of each call by name; with `profile` every timed call runs under cProfile."""

    def __init__(self, profile: bool):
        self.samples: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}  # this process's CPU time: the contention-free part on SQLite
        self.profiler = cProfile.Profile() if profile else None

    def __call__(self, name: str, call: Callable[..., object], *args: object) -> object:
        if self.profiler:
            self.profiler.enable()
        started, started_cpu = time.perf_counter(), time.process_time()
        result = call(*args)
        elapsed = (time.perf_counter() - started) * 1000
        self.cpu.setdefault(name, []).append((time.process_time() - started_cpu) * 1000)
        if self.profiler:
            self.profiler.disable()
        self.samples.setdefault(name, []).append(elapsed)
        return result

    def summary(self) -> dict:
        return {name: {**_summary(values), "client_cpu": _summary(self.cpu[name])}
                for name, values in self.samples.items()}

    def profile_report(self, top: int = 25) -> str:
        out = io.StringIO()
        stats = pstats.Stats(self.profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(top)
        stats.sort_stats("tottime").print_stats(top)  # where the time is spent, not only under what
        return out.getvalue()


def _team(rnd: random.Random) -> str:
    return rnd.choices(list(TEAMS), weights=list(TEAMS.values()))[0]


def _profile(rnd: random.Random, n: int) -> RepProfile:
    languages = ["en"] + rnd.sample(LANGUAGES[1:], rnd.choice([0, 0, 1, 1, 2]))
    if rnd.random() < 0.1:
        languages = rnd.sample(LANGUAGES[1:], 1)
    return RepProfile(
        id=f"rep{n:05}", name=f"Rep {n}", email=f"rep{n}@example.com", title="Account Executive",
        expertise="Enterprise software sales", team=_team(rnd), skills=rnd.sample(SKILLS, rnd.randint(0, 5)),
        languages=languages, capacity=rnd.choice([1, 1, 2, 2, 3, 4]), timezone=rnd.choice(ZONES),
        working_hours=rnd.choice(SHIFTS), locale=rnd.choice(["en", "en", "zh"]))


def _routing(rnd: random.Random, rep_count: int) -> tuple[Routing, list[str]]:
    routing = Routing(team=_team(rnd), skills=rnd.sample(SKILLS, rnd.randint(0, 3)),
                      language=rnd.choice([None, None, None, "en", "de", "fr"]),
                      preferred_rep_id=f"rep{rnd.randrange(rep_count):05}" if rnd.random() < 0.1 else None,
                      priority=rnd.choice([0, 0, 0, 0, 1, 2]))
    exclude = [f"rep{rnd.randrange(rep_count):05}" for _ in range(rnd.choice([0, 0, 0, 1, 2]))]
    return routing, exclude


def populate(db: Database, count: int, rnd: random.Random) -> list[RepProfile]:
    """`count` reps through RepStore.create; about a third of the available ones already hold a seat."""
    reps = RepStore(db)
    capacity = CapacityStore(db)
    profiles = []
    for n in range(count):
        profile = _profile(rnd, n)
        reps.create(profile, presence=rnd.choice(PRESENCES))
        profiles.append(profile)
    for state in reps.list():
        if state.presence == "available" and state.profile.capacity > 1 and rnd.random() < 0.35:
            capacity.reserve(f"load-{state.profile.id}", state.profile.id, NOW - timedelta(minutes=30))
    return profiles


def bench_place(db: Database, rounds: int, rnd: random.Random, timer: Timer, rep_count: int) -> None:
    capacity = CapacityStore(db)
    for n in range(rounds):
        routing, exclude = _routing(rnd, rep_count)
        at = NOW + timedelta(seconds=n)
        placed = timer("place_seat", capacity.place, f"p{n}", routing, at, exclude)
        assert placed.rep_id is not None, "a rep should be free for every transfer in this scenario"
        timer("release_seat", capacity.release, f"p{n}", at)


def fill_queue(db: Database, queued: int, rnd: random.Random, rep_count: int) -> None:
    """Every available rep's free seats taken, then `queued` transfers inserted straight into the queue."""
    reps, capacity = RepStore(db), CapacityStore(db)
    for state in reps.list():
        if state.presence == "available":
            for seat in range(state.free_seats):
                assert capacity.reserve(f"fill-{state.profile.id}-{seat}", state.profile.id, NOW)
    rows = []
    for n in range(queued):
        routing, exclude = _routing(rnd, rep_count)
        rows.append({"transfer_id": f"q{n:05}", "team": routing.team, "priority": routing.priority,
                     "routing": {**routing.model_dump(mode="json"), "exclude": sorted(exclude)},
                     "arrival": n + 1, "enqueued_at": NOW - timedelta(seconds=queued - n)})
        rows[-1]["language"] = routing.language or ""  # the routing's copy, as CapacityStore writes it
    with db.session() as session:
        for start in range(0, len(rows), 1000):
            session.exec(insert(QueueRow.__table__), params=rows[start:start + 1000])


def _queue_head(db: Database, team: str) -> str | None:
    with db.read() as session:
        query = (select(QueueRow.transfer_id).where(QueueRow.team == team)
                 .order_by(QueueRow.priority.desc(), QueueRow.arrival).limit(1))
        return session.exec(query).first()


def bench_queue(db: Database, rounds: int, rnd: random.Random, timer: Timer, rep_count: int) -> None:
    reps, capacity = RepStore(db), CapacityStore(db)
    states = reps.list()
    full = [s.profile.id for s in states if s.presence == "available"]
    roomy_busy = [s.profile.id for s in states if s.presence == "busy" and s.free_seats > 0]
    seated: dict[str, list[str]] = {rep_id: [] for rep_id in full}
    with db.read() as session:
        for seat in session.exec(select(SeatRow)).all():
            if seat.rep_id in seated:
                seated[seat.rep_id].append(seat.transfer_id)
    for n in range(rounds):
        at = NOW + timedelta(minutes=10, seconds=n)
        routing, exclude = _routing(rnd, rep_count)
        placed = timer("queue_place", capacity.place, f"new{n}", routing, at, exclude)
        assert placed.position is not None, "nobody is free: the transfer must queue"

        head = _queue_head(db, _team(rnd))
        if head:
            timer("queue_release_head", capacity.release, head, at)

        rep_id = rnd.choice(full)
        if seated[rep_id]:
            leaving = seated[rep_id].pop()
            change = timer("release_seated", capacity.release, leaving, at)
            seated[rep_id].extend(a.transfer_id for a in change.handed_over if a.rep_id == rep_id)

        if roomy_busy:
            rep_id = roomy_busy.pop()
            reps.set_presence(rep_id, "available", at)
            timer("dispatch_after_presence", capacity.dispatch, at)
            reps.set_presence(rep_id, "busy", at)


def bench_rank(db: Database, rounds: int, rnd: random.Random, timer: Timer, rep_count: int) -> None:
    reps = RepStore(db)
    states = reps.list()
    for _ in range(rounds):
        routing, exclude = _routing(rnd, rep_count)
        everyone = routing.model_copy(update={"team": None, "language": None})
        ranked = timer("rank", rank, states, everyone, NOW, exclude)
        assert len(ranked) >= len(states) - len(exclude)
        timer("list_team", reps.list, routing.team)


@contextmanager
def database(kind: str) -> Iterator[Database]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            db = Database(f"sqlite:///{folder}/bench.db")
            migrate(db)
            try:
                yield db
            finally:
                db.dispose()
        return
    name = f"wt_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        db = Database(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
        try:
            migrate(db)
            yield db
        finally:
            db.dispose()
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def settle_tables(db: Database) -> None:
    """On PostgreSQL, VACUUM ANALYZE after a set-up step, as autovacuum keeps a live database (this machine's
    server runs with autovacuum off): without statistics and a visibility map the planner guesses row
    counts and index-only scans visit the table, so every query costs up to twice as much."""
    if not db.is_sqlite:
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")


def _server_version(db: Database) -> str:
    with db.read() as session:
        if db.is_sqlite:
            return session.connection().exec_driver_sql("select sqlite_version()").scalar()
        return session.connection().execute(text("show server_version")).scalar()


def run(kind: str, args: argparse.Namespace) -> dict:
    rnd = random.Random(args.seed)
    timer = Timer(args.profile)
    with database(kind) as db:
        started = time.perf_counter()
        populate(db, args.reps, rnd)
        print(f"[{kind}] {args.reps} reps in {time.perf_counter() - started:.1f} s", flush=True)
        settle_tables(db)
        settle_heap()  # as the worker and the API do once serving: no full collections over the set-up heap
        bench_rank(db, args.rank_rounds, rnd, timer, args.reps)
        bench_place(db, args.rounds, rnd, timer, args.reps)
        if args.profile:
            print(f"[{kind}] place_seat / release_seat profile\n{timer.profile_report()}")
            timer.profiler = cProfile.Profile()
        started = time.perf_counter()
        fill_queue(db, args.queued, rnd, args.reps)
        print(f"[{kind}] {args.queued} queued in {time.perf_counter() - started:.1f} s", flush=True)
        settle_tables(db)
        settle_heap()
        bench_queue(db, args.rounds, rnd, timer, args.reps)
        if args.profile:
            print(f"[{kind}] queue profile\n{timer.profile_report()}")
        result = {"server_version": _server_version(db), "ms": timer.summary()}
    print(f"[{kind}] {json.dumps(result['ms'])}", flush=True)
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--queued", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--rank-rounds", type=int, default=50)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print cProfile reports of the timed calls")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "params": {"reps": args.reps, "queued": args.queued, "rounds": args.rounds,
                   "rank_rounds": args.rank_rounds, "seed": args.seed, "profiled": args.profile,
                   "settled_heap": True, "postgres_vacuum_analyze": True},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform(), "sqlite_library": sqlite3.sqlite_version},
        "load_average_before": os.getloadavg(),
        "databases": {kind: run(kind, args) for kind in kinds},
    }
    result["load_average_after"] = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "routing.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {path}")
    return result


if __name__ == "__main__":
    main()
