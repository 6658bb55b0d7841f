"""The processes' log on stderr: text for people, or one JSON object per line (WT_LOG_FORMAT=json) for a log
collector, with the transfer each line is about.

A JSON line holds the fields named here and nothing else a record carries: what code logs is written for the log
(ids, never a prospect's data); what libraries attach to a record is not.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from opentelemetry import trace

from api import log_context
from config import LogFormat
from workflows.transfer import TransferWorkflow

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
SDK_CONTEXTS = ("temporal_workflow", "temporal_activity")  # what the Temporal SDK's loggers add to a record


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if transfer_id := transfer_of(record):
            line["transfer_id"] = transfer_id
        span = trace.get_current_span().get_span_context()
        if span.is_valid:  # with tracing on: the trace the line belongs to
            line["trace_id"], line["span_id"] = trace.format_trace_id(span.trace_id), trace.format_span_id(span.span_id)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def transfer_of(record: logging.LogRecord) -> str | None:
    """The transfer a record is about: given as `extra={"transfer_id": ...}`; or the workflow of a transfer's
    workflow or activity log (its id is the transfer's); or the transfer of the API request being served."""
    given = getattr(record, "transfer_id", None)
    if isinstance(given, str):
        return given
    for context in SDK_CONTEXTS:
        info = getattr(record, context, None)
        if isinstance(info, dict) and info.get("workflow_type") == TransferWorkflow.__name__:
            return info.get("workflow_id")
    return log_context.transfer_id.get()


def configure(level: str, log_format: LogFormat) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(TEXT))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
