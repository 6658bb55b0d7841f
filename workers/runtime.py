"""Process tuning for latency: the garbage collector, settled once a process has started, and the workflow
module's bytecode, compiled once rather than on every sandboxed run."""

from __future__ import annotations

import functools
import gc
import importlib.util
import py_compile
import sys
import tempfile
from types import ModuleType


def settle_heap() -> None:
    """Collect once, freeze what start-up built (modules, models, the app) out of the collector's sight, and
    collect the young generation less often. Full collections over that heap were the API's p99 outliers
    (about 1 request in 100, 150-230 ms; `git show ca8de1d:bench/README.md`, "What each change bought"); frozen, they
    are gone."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


@functools.cache  # once per module and process: a worker made again (tests make many) finds it done
def cache_bytecode(module: ModuleType) -> None:
    """Write `module`'s bytecode cache, even where Python would not (PYTHONDONTWRITEBYTECODE).

    The workflow sandbox imports the workflow's module afresh for every new run and every replay, and
    without a cache each import compiles its source: 19 ms of CPU for workflows/transfer.py, the whole
    of what was measured as the sandbox's set-up cost (`git show ca8de1d:bench/README.md`, "What each change
    bought"). A source tree we may not write to gets its cache under a private prefix instead.
    """
    source = module.__file__
    try:
        py_compile.compile(source, cfile=importlib.util.cache_from_source(source), doraise=True)
    except OSError:
        sys.pycache_prefix = tempfile.mkdtemp(prefix="wt-pycache-")
        py_compile.compile(source, cfile=importlib.util.cache_from_source(source), doraise=True)
