"""Process tuning for latency: the garbage collector, settled once a process has started."""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Collect once, freeze what start-up built (modules, models, the app) out of the collector's sight, and
    collect the young generation less often. Full collections over that heap were the API's p99 outliers
    (about 1 request in 100, 150-230 ms; bench/README.md); frozen, they are gone."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
