"""The Temporal SDK's own metrics (workflow task latency, schedule-to-start, activity failures, polls, slots, the
cache...) on the process's Prometheus endpoint, beside ours: the API's `/metrics`, a worker's
`WT_WORKER_METRICS_ADDRESS`.

The SDK's core records them into a buffer of its Runtime, and this collector drains the buffer into series of its
own: every second (a full buffer drops what does not fit) and at every scrape (so a scrape sees everything up to
then). Names, labels and kinds are the SDK's, as its own Prometheus exporter writes them
(`temporal_workflow_task_schedule_to_start_latency`, ...), durations in seconds.
"""

from __future__ import annotations

import asyncio
import math
import threading
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import Metric
from temporalio.runtime import (
    BUFFERED_METRIC_KIND_COUNTER,
    BUFFERED_METRIC_KIND_GAUGE,
    BUFFERED_METRIC_KIND_HISTOGRAM,
    BufferedMetricUpdate,
    MetricBuffer,
    MetricBufferDurationFormat,
)

BUFFER_SIZE = 100_000  # updates between two drains; a transfer makes about a hundred
DRAIN_EVERY = 1.0  # seconds
# Seconds, from a local activity's few milliseconds to a transfer's week of waiting for feedback.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400, 604800, math.inf)
KINDS = {BUFFERED_METRIC_KIND_COUNTER: "counter", BUFFERED_METRIC_KIND_GAUGE: "gauge",
         BUFFERED_METRIC_KIND_HISTOGRAM: "histogram"}

Labels = tuple[tuple[str, str], ...]


@dataclass
class _Series:
    name: str
    kind: str
    description: str
    values: dict[Labels, float] = field(default_factory=dict)  # a counter's total, a gauge's latest value
    buckets: dict[Labels, list[int]] = field(default_factory=dict)  # a histogram's count per bucket
    sums: dict[Labels, float] = field(default_factory=dict)  # a histogram's sum

    def record(self, labels: Labels, value: float) -> None:
        if self.kind == "counter":
            self.values[labels] = self.values.get(labels, 0) + value  # the buffer holds a counter's increments
        elif self.kind == "gauge":
            self.values[labels] = value
        else:
            counts = self.buckets.setdefault(labels, [0] * len(BUCKETS))
            counts[bisect_left(BUCKETS, value)] += 1  # the first bucket whose bound is at or above it
            self.sums[labels] = self.sums.get(labels, 0) + value

    def metric(self) -> Metric:
        metric = Metric(self.name, self.description, self.kind)
        for labels, value in self.values.items():
            metric.add_sample(self.name, dict(labels), value)
        for labels, counts in self.buckets.items():
            below = 0
            for bound, count in zip(BUCKETS, counts, strict=True):
                below += count
                metric.add_sample(f"{self.name}_bucket", {**dict(labels), "le": _bound(bound)}, below)
            metric.add_sample(f"{self.name}_count", dict(labels), below)
            metric.add_sample(f"{self.name}_sum", dict(labels), self.sums[labels])
        return metric


class TemporalSdkMetrics:
    """A prometheus_client collector of the metrics of the Temporal clients and workers made on a Runtime whose
    telemetry records into `buffer`."""

    def __init__(self) -> None:
        self.buffer = MetricBuffer(BUFFER_SIZE, MetricBufferDurationFormat.SECONDS)
        self._series: dict[str, _Series] = {}
        self._lock = threading.Lock()  # a worker's endpoint scrapes from a thread of its own

    def drain(self) -> None:
        with self._lock:
            for update in self.buffer.retrieve_updates():
                self._record(update)

    async def drain_forever(self) -> None:
        while True:
            self.drain()
            await asyncio.sleep(DRAIN_EVERY)

    def collect(self) -> Iterator[Metric]:  # prometheus_client's collector protocol
        self.drain()
        with self._lock:
            return iter([series.metric() for series in self._series.values()])

    def serve(self, address: str) -> WSGIServer:
        """Serve these metrics at `http://<address>/metrics` from a thread, for a process with no API; stopped by the
        server's `shutdown()`, its port freed by `server_close()`."""
        registry = CollectorRegistry()
        registry.register(self)
        host, _, port = address.rpartition(":")
        server, _ = start_http_server(int(port), host.strip("[]"), registry=registry)
        return server

    def _record(self, update: BufferedMetricUpdate) -> None:
        metric = update.metric
        series = self._series.get(metric.name)
        if series is None:
            series = self._series[metric.name] = _Series(metric.name, KINDS[metric.kind], metric.description or "")
        series.record(_labels(update.attributes), update.value)


def _labels(attributes: Mapping[str, str | int | float | bool]) -> Labels:
    return tuple(sorted((key, str(value).lower() if isinstance(value, bool) else str(value))
                        for key, value in attributes.items()))


def _bound(bound: float) -> str:
    return "+Inf" if bound == math.inf else repr(float(bound))
