"""OpenTelemetry traces, off unless the standard `OTEL_*` variables ask for them: one trace from a bot's request
(the FastAPI instrumentation) through the transfer's workflow and its activities, the rep's alert among them
(`temporalio.contrib.opentelemetry`, which carries the trace in Temporal's headers).

On when `OTEL_TRACES_EXPORTER` names an exporter, or when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`)
is set, then to OTLP; `OTEL_SDK_DISABLED=true` turns it off whatever else is set. Everything else is the SDK's own
reading of the variables: the OTLP endpoint, protocol, headers and certificates, `OTEL_SERVICE_NAME` and
`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, the batch processor's `OTEL_BSP_*`, `OTEL_PROPAGATORS`.

What leaves the process carries no personal data: request URLs hold ids only, and their query's tokens and keys
are redacted; an exception is named by its type alone (its message can quote what a prospect wrote); bodies and
headers are never recorded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from importlib.metadata import entry_points

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status
from temporalio.contrib.opentelemetry import TracingInterceptor

from api.access_log import redacted

EXPORTERS_GROUP = "opentelemetry_traces_exporter"  # where exporter packages register their names
OTLP_BY_PROTOCOL = {"grpc": "otlp_proto_grpc", "http/protobuf": "otlp_proto_http"}
ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
# Probes and scrapers call these every few seconds: traced, they would drown the transfers' traces.
UNTRACED_URLS = r"://[^/]+/(healthz|readyz|metrics)/?(\?|$)"
URL_ATTRIBUTES = ("http.url", "http.target", "url.full", "url.query")
EXCEPTION_DETAIL = ("exception.message", "exception.stacktrace")


class TracingSettingsError(ValueError):
    """OTEL_* variables that name an exporter or protocol that is not installed."""


class Tracing:
    """A tracer provider of its own (not the process's global one), on the FastAPI app and the Temporal client."""

    def __init__(self, process: str, exporters: Sequence[SpanExporter]):
        # The default name says which process; OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES win over it.
        resource = Resource.create({SERVICE_NAME: f"warm-transfer-{process}"}).merge(OTELResourceDetector().detect())
        self.provider = TracerProvider(resource=resource)
        for exporter in exporters:
            self.provider.add_span_processor(BatchSpanProcessor(WithoutPersonalData(exporter)))

    @classmethod
    def from_environment(cls, process: str) -> Tracing | None:
        """The tracing the OTEL_* variables ask for; None when they ask for none (the default)."""
        names = exporter_names(os.environ)
        return cls(process, [_exporter(name)() for name in names]) if names else None

    def interceptor(self) -> TracingInterceptor:
        """For the Temporal client; a worker on that client traces its workflows and activities with it."""
        return TracingInterceptor(self.provider.get_tracer(__name__))

    def instrument(self, app: FastAPI) -> None:
        excluded = None if _excluded_urls_set() else UNTRACED_URLS
        # No span per ASGI message: an event stream would make one per event.
        FastAPIInstrumentor.instrument_app(app, tracer_provider=self.provider, excluded_urls=excluded,
                                           exclude_spans=["receive", "send"])

    def shutdown(self) -> None:
        """Export what is still buffered."""
        self.provider.shutdown()


def exporter_names(environ: Mapping[str, str]) -> list[str]:
    """The exporters' entry-point names, the OTel way: OTEL_TRACES_EXPORTER's comma-separated names, `otlp` by its
    protocol (gRPC unless OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL says `http/protobuf`, as the Python SDK does),
    `none` for none. Unlike the SDK's default, traces are off until an exporter or an OTLP endpoint is set."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    named = environ.get("OTEL_TRACES_EXPORTER", "").strip()
    if not named and not any(environ.get(endpoint, "").strip() for endpoint in ENDPOINTS):
        return []
    protocol = (environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
                or "grpc").strip()
    names = [name.strip() for name in (named or "otlp").split(",") if name.strip() not in ("", "none")]
    if "otlp" in names and protocol not in OTLP_BY_PROTOCOL:
        raise TracingSettingsError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol}: expected grpc or http/protobuf")
    return [OTLP_BY_PROTOCOL[protocol] if name == "otlp" else name for name in names]


def _exporter(name: str) -> type[SpanExporter]:
    found = entry_points(group=EXPORTERS_GROUP, name=name)
    if not found:
        installed = ", ".join(sorted(point.name for point in entry_points(group=EXPORTERS_GROUP)))
        raise TracingSettingsError(f"OTEL_TRACES_EXPORTER: no trace exporter {name!r} is installed (installed: "
                                   f"otlp, {installed}, none)")
    return next(iter(found)).load()


def _excluded_urls_set() -> bool:
    return any(os.environ.get(name) for name in ("OTEL_PYTHON_FASTAPI_EXCLUDED_URLS", "OTEL_PYTHON_EXCLUDED_URLS"))


class WithoutPersonalData(SpanExporter):
    """Hands `exporter` each span with the query's tokens and keys redacted and exceptions named by type only (the
    instrumentations record an exception's message and stack trace, which can quote a prospect's words)."""

    def __init__(self, exporter: SpanExporter):
        self.exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.exporter.export([_without_personal_data(span) for span in spans])

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.exporter.force_flush(timeout_millis)


def _without_personal_data(span: ReadableSpan) -> ReadableSpan:
    attributes = {key: redacted(value) if key in URL_ATTRIBUTES and isinstance(value, str) else value
                  for key, value in (span.attributes or {}).items()}
    events = [Event(event.name, {key: value for key, value in (event.attributes or {}).items()
                                 if key not in EXCEPTION_DETAIL}, event.timestamp) for event in span.events]
    # A failed span's description is "<type>: <message>" (TracingInterceptor, the ASGI middleware): the type stays.
    description = span.status.description
    status = Status(span.status.status_code, description.split(":", 1)[0] if description else None)
    return ReadableSpan(name=span.name, context=span.context, parent=span.parent, resource=span.resource,
                        attributes=attributes, events=events, links=span.links, kind=span.kind, status=status,
                        start_time=span.start_time, end_time=span.end_time,
                        instrumentation_scope=span.instrumentation_scope)
