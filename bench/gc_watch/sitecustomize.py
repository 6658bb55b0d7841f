"""Logs every garbage collection of a process that imports it: put this directory on PYTHONPATH and name a
directory in WT_BENCH_GC_LOG_DIR (bench.stack does both for `running_stack(gc_log=True)`). Each process writes
gc-<pid>.jsonl there, a line per collection: when it began (time.monotonic(), one clock for every process on
the machine), the generation, how long it took and what it freed; and on SIGUSR2 a census of the objects the
collector tracks (`Stack.census`). Bench-only: nothing in the product imports it."""

import collections
import gc
import json
import os
import signal
import sys
import time

_LOG_DIR = os.environ.get("WT_BENCH_GC_LOG_DIR")


def _commonest(things: list) -> list:
    return collections.Counter(type(thing).__qualname__ for thing in things).most_common(20)


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
        """On SIGUSR2: how many objects the collector tracks in each generation, then a full collection: how
        many of them were garbage, and the commonest types of the garbage and of the survivors."""
        counted = {"census": time.monotonic(), "young": len(gc.get_objects(0)), "middle": len(gc.get_objects(1)),
                   "old": len(gc.get_objects(2)), "frozen": gc.get_freeze_count()}
        gc.set_debug(gc.DEBUG_SAVEALL)  # what the collection finds unreachable is kept in gc.garbage, to be counted
        counted["garbage"] = gc.collect()
        gc.set_debug(0)
        garbage = {id(thing) for thing in gc.garbage}
        survivors = [thing for thing in gc.get_objects(2) if id(thing) not in garbage]
        counted |= {"survivors": len(survivors), "survivor_types": _commonest(survivors),
                    "garbage_types": _commonest(gc.garbage)}
        del survivors
        gc.garbage.clear()
        gc.collect()  # now frees the garbage it kept
        log.write(json.dumps(counted) + "\n")

    signal.signal(signal.SIGUSR2, census)


if _LOG_DIR:
    _watch(_LOG_DIR)
