"""Logs every garbage collection of a process that imports it: put this directory on PYTHONPATH and name a
directory in WT_BENCH_GC_LOG_DIR (bench.stack does both for `running_stack(gc_log=True)`). Each process writes
gc-<pid>.jsonl there, a line per collection: when it began (time.monotonic(), one clock for every process on
the machine), the generation, how long it took and what it freed. Bench-only: nothing in the product imports it."""

import collections
import gc
import json
import os
import signal
import sys
import time

_LOG_DIR = os.environ.get("WT_BENCH_GC_LOG_DIR")


def _watch(log_dir: str) -> None:
    log = open(os.path.join(log_dir, f"gc-{os.getpid()}.jsonl"), "a", buffering=1)  # noqa: SIM115 - lives as long as the process
    log.write(json.dumps({"argv": sys.argv}) + "\n")
    began = 0.0

    def on_collection(phase: str, info: dict) -> None:
        nonlocal began
        if phase == "start":
            began = time.monotonic()
            return
        took = time.monotonic() - began
        log.write(f'{{"at":{began:.4f},"gen":{info["generation"]},"ms":{took * 1000:.3f},'
                  f'"collected":{info["collected"]}}}\n')

    gc.callbacks.append(on_collection)

    def census(*_: object) -> None:
        """On SIGUSR2: how many objects the collector tracks in each generation and the commonest types among
        the oldest, then a full collection: how much of it was garbage, and the commonest types left."""
        counted = {"census": time.monotonic(), "young": len(gc.get_objects(0)), "middle": len(gc.get_objects(1)),
                   "old": len(gc.get_objects(2)), "frozen": gc.get_freeze_count()}
        gc.set_debug(gc.DEBUG_SAVEALL)  # what the collection finds unreachable is kept in gc.garbage, to be counted
        counted["garbage"] = gc.collect()
        gc.set_debug(0)
        counted["garbage_types"] = collections.Counter(type(thing).__qualname__ for thing in gc.garbage).most_common(40)
        gc.garbage.clear()
        survivors = gc.get_objects(2)
        counted |= {"survivors": len(survivors),
                    "types": collections.Counter(type(thing).__qualname__ for thing in survivors).most_common(40)}
        del survivors
        log.write(json.dumps(counted) + "\n")

    signal.signal(signal.SIGUSR2, census)


if _LOG_DIR:
    _watch(_LOG_DIR)
