"""What a process reports besides its log: traces, when the OTEL_* variables ask for them (workers/tracing.py), and
the Temporal SDK's own metrics (workers/sdk_metrics.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter
from temporalio.client import Interceptor
from temporalio.converter import DataConverter
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig

from config import Settings
from workers.sdk_metrics import TemporalSdkMetrics
from workers.temporal import TemporalConnection, cluster_connection
from workers.tracing import Tracing

# The SDK core's own log lines go through Python's logging, so they are written as every other line (JSON too).
CORE_LOGS = LoggingConfig(filter=LoggingConfig.default.filter,
                          forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")))


@dataclass
class Telemetry:
    tracing: Tracing | None
    sdk_metrics: TemporalSdkMetrics | None
    runtime: Runtime  # the SDK's threads, logs and metrics for every client of the process

    @classmethod
    def of(cls, process: str, span_exporters: Sequence[SpanExporter] | None = None,
           sdk_metrics: bool = False) -> Telemetry:
        """For the process `process` (`api`, `worker`): traces to `span_exporters` if given, else as the
        environment's OTEL_* variables say; the SDK's own metrics if `sdk_metrics` (WT_TEMPORAL_SDK_METRICS)."""
        metrics = TemporalSdkMetrics() if sdk_metrics else None
        runtime = Runtime(telemetry=TelemetryConfig(metrics=metrics.buffer if metrics else None, logging=CORE_LOGS))
        tracing = Tracing.from_environment(process) if span_exporters is None else Tracing(process, span_exporters)
        return cls(tracing, metrics, runtime)

    @property
    def interceptors(self) -> list[Interceptor]:
        return [self.tracing.interceptor()] if self.tracing else []

    def connection(self, settings: Settings, converter: DataConverter) -> TemporalConnection:
        """The settings' Temporal connection, its clients traced and measured."""
        return cluster_connection(settings, converter, self.interceptors, self.runtime)

    def trace(self, app: FastAPI) -> None:
        if self.tracing:
            self.tracing.instrument(app)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Drain the SDK's metrics while the block runs; then export the spans still buffered."""
        draining = (asyncio.create_task(self.sdk_metrics.drain_forever(), name="temporal-sdk-metrics")
                    if self.sdk_metrics else None)
        try:
            yield
        finally:
            if draining is not None:
                draining.cancel()
            if self.tracing:
                self.tracing.shutdown()
