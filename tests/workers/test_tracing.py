"""Tracing is off by default and configured by the standard OTEL_* variables; what it exports holds no personal data.
(One trace through the running stack: tests/e2e/test_observability.py.)"""

from __future__ import annotations

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from tests.conftest import QuietHandler, Received, http_server
from workers.tracing import Tracing, TracingSettingsError, WithoutPersonalData, exporter_names

OTEL_VARIABLES = ("OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
                  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
                  "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES")


@pytest.fixture(autouse=True)
def no_otel_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("environ", "names"), [
    ({}, []),  # off by default
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, ["otlp_proto_grpc"]),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces",
      "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, ["otlp_proto_http"]),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
      "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, ["otlp_proto_http"]),  # the signal's own setting wins
    ({"OTEL_TRACES_EXPORTER": "console,otlp"}, ["console", "otlp_proto_grpc"]),
    ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, []),
    ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"}, []),
])
def test_traces_are_on_only_when_an_exporter_or_endpoint_is_set(environ: dict, names: list[str]) -> None:
    assert exporter_names(environ) == names


def test_tracing_is_off_in_a_plain_environment() -> None:
    assert Tracing.from_environment("api") is None


def test_an_unknown_exporter_or_protocol_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    with pytest.raises(TracingSettingsError, match="no trace exporter 'zipkin' is installed .*console"):
        Tracing.from_environment("api")
    with pytest.raises(TracingSettingsError, match="OTEL_EXPORTER_OTLP_PROTOCOL=http/json"):
        exporter_names({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"})


def test_spans_go_to_the_otlp_endpoint_the_variables_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """A collector on loopback (OTLP over HTTP), reached through the standard variables alone."""
    received: list[Received] = []

    class Collector(QuietHandler):
        def do_POST(self) -> None:  # http.server naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(Received(self.path, dict(self.headers), body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with http_server(Collector) as server:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=staging")
        tracing = Tracing.from_environment("worker")
        with tracing.provider.get_tracer("test").start_as_current_span("RunActivity:publish"):
            pass
        tracing.shutdown()  # exports what is buffered

    [export] = received
    assert export.path == "/v1/traces"
    request = ExportTraceServiceRequest.FromString(export.body)
    [resource_spans] = request.resource_spans
    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert resource["service.name"] == "warm-transfer-worker"  # ours, as OTEL_SERVICE_NAME is not set
    assert resource["deployment.environment"] == "staging"
    assert [span.name for scope in resource_spans.scope_spans for span in scope.spans] == ["RunActivity:publish"]


def test_otel_service_name_wins_over_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "transfers-eu")
    assert Tracing("api", []).provider.resource.attributes["service.name"] == "transfers-eu"


def test_exported_spans_name_an_exception_by_its_type_and_redact_tokens_in_urls() -> None:
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(WithoutPersonalData(exported)))
    with pytest.raises(ValueError), provider.get_tracer("test").start_as_current_span("GET /feed") as span:
        span.set_attribute("http.url", "http://api/v1/reps/sarah/calendar.ics?token=s3cret&x=1")
        span.set_attribute("url.query", "token=s3cret")
        span.set_attribute("temporalWorkflowID", "xfer_1")
        raise ValueError("John Smith <john@acme.com> wrote: call me at +1-555-123-4567")

    [span] = exported.get_finished_spans()
    assert span.attributes["http.url"] == "http://api/v1/reps/sarah/calendar.ics?token=[redacted]&x=1"
    assert span.attributes["url.query"] == "token=[redacted]"
    assert span.attributes["temporalWorkflowID"] == "xfer_1"
    assert (span.status.status_code, span.status.description) == (StatusCode.ERROR, "ValueError")
    [event] = span.events
    assert dict(event.attributes) == {"exception.type": "ValueError", "exception.escaped": "False"}
