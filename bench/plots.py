"""Plots of the benchmark results, as PNG files beside them in bench/results/.

    .venv/bin/python -m bench.plots

Reads latency.json, throughput.json and open_transfers.json (whichever exist) and draws: the latency
distributions at a steady rate (ours and plain Temporal), throughput against load, and the worker's memory
against open transfers. Needs matplotlib, the `bench` extra (`make bench` installs it).
"""

from __future__ import annotations

import json
from types import ModuleType

from bench.stack import RESULTS

LATENCY_SERIES = [("ours", "start", "our POST /v1/transfers"), ("ours", "accept", "our rep accept"),
                  ("ours", "alert_sse", "rep alert on SSE, from proceed"),
                  ("ours", "alert_webhook", "bot webhook, from proceed"),
                  ("plain", "eager_start_then_update", "plain eager start + update"),
                  ("plain", "update_with_start", "plain update-with-start"), ("plain", "update", "plain update")]


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def pyplot() -> ModuleType:
    """matplotlib's pyplot, drawing to files only. Imported when a plot is drawn: the benchmarks run, and
    `make test` smokes them, without it."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no screen
    import matplotlib.pyplot

    return matplotlib.pyplot


def latency_distributions(result: dict) -> None:
    figure, axes = pyplot().subplots(figsize=(9, 5))
    for side, name, label in LATENCY_SERIES:
        values = sorted(result["samples_ms"][side][name])
        axes.plot(values, [(n + 1) / len(values) for n in range(len(values))], label=label)
    axes.set_xscale("log")
    _finish(figure, axes, "latency", "latency (ms, log scale)", "fraction of requests at or under",
            f"Latency at {result['rate_per_second']:g} transfers/s ({result['transfers']} transfers)")


def throughput_against_load(result: dict) -> None:
    figure, axes = pyplot().subplots(figsize=(7, 4.5))
    series = [(result["happy_path_transfers"], "happy-path transfers"),
              (result["one_activity_workflows"], "plain one-activity workflows"),
              (result["plain_happy_paths"], "plain workflows taking a happy path's steps")]
    for rows, label in series:
        axes.plot([r["concurrency"] for r in rows], [r["per_second"] for r in rows], marker="o", label=label)
    axes.set_xscale("log", base=2)
    _finish(figure, axes, "throughput", "in flight at once (closed loop)", "completed per second",
            "Throughput against load, one machine")


def memory_against_open(result: dict) -> None:
    figure, axes = pyplot().subplots(figsize=(7, 4.5))
    opened = [m["open"] for m in result["memory"]]
    for key, label in (("rss_mib", "worker process"), ("api_rss_mib", "API process"),
                       ("temporal_rss_mib", "Temporal dev server")):
        axes.plot(opened, [m[key] for m in result["memory"]], marker=".", label=label)
    axes.axhline(1024, color="red", linestyle="--", label="goal: 1 GiB (the worker)")
    _finish(figure, axes, "open_transfers", "open (queued) transfers", "resident memory (MiB)",
            "Memory against open transfers")


def _finish(figure, axes, name: str, x_label: str, y_label: str, title: str) -> None:
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(RESULTS / f"{name}.png", dpi=110)


def main() -> list[str]:
    drawn = []
    for name, draw in (("latency", latency_distributions), ("throughput", throughput_against_load),
                       ("open_transfers", memory_against_open)):
        result = _load(name)
        if result is not None:
            draw(result)
            drawn.append(str(RESULTS / f"{name}.png"))
    return drawn


if __name__ == "__main__":
    print("\n".join(main()))
