"""Ops figures: the seed's six transfer metrics (now and over time), the feedback report, the live queue,
and a Prometheus exposition of the same figures plus API latency."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from pydantic import BaseModel, ConfigDict, Field

from api.auth import metrics_scraper, require
from api.deps import Services
from api.errors import error_responses, invalid
from api.threads import blocking
from domain.metrics import (
    BucketMetrics,
    FeedbackReport,
    Metrics,
    bucket_count,
    feedback_report,
    metrics,
    percentile,
    series,
    step_seconds,
)
from store.metrics import MetricsStore, Scope, TeamQueue

router = APIRouter(tags=["metrics"], responses=error_responses(401, 403, 422))
admin = Depends(require("admin"))

DEFAULT_WINDOW = timedelta(days=7)
PROMETHEUS_WINDOW = timedelta(hours=24)  # a scrape reports the last day: bounded work, a figure that moves
MAX_BUCKETS = 1000


class Window(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    team: str | None = None
    rep: str | None = None


class MetricsOut(BaseModel):
    window: Window
    metrics: Metrics


class SeriesOut(BaseModel):
    window: Window
    bucket: Literal["hour", "day"]
    buckets: list[BucketMetrics]


class FeedbackOut(BaseModel):
    window: Window
    report: FeedbackReport


class QueueOut(BaseModel):
    at: datetime
    teams: list[TeamQueue]


def _utc(at: datetime, field: str) -> datetime:
    try:
        return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)  # no zone given: UTC
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00, an hour before the first moment there is
        raise invalid(field, "is out of range") from None


def chosen_scope(
    start: datetime | None = Query(None, alias="from", description="ISO 8601; transfers created at or after. "
                                   "Default: `to` minus 7 days. Without a zone: UTC."),
    end: datetime | None = Query(None, alias="to", description="ISO 8601; transfers created before. Default: now."),
    team: str | None = Query(None, max_length=40, description="Only this team's transfers."),
    rep: str | None = Query(None, max_length=64, description="Only transfers whose latest rep (proposed, "
                            "offered or handling) is this rep."),
) -> Scope:
    end = _utc(end, "query.to") if end else datetime.now(UTC)
    if start is not None:
        start = _utc(start, "query.from")
    elif end - datetime.min.replace(tzinfo=UTC) < DEFAULT_WINDOW:
        raise invalid("query.to", "is too early for the default window of 7 days before it; give 'from'")
    else:
        start = end - DEFAULT_WINDOW
    if start >= end:
        raise invalid("query.from", "must be before 'to'")
    return Scope(start=start, end=end, team=team, rep=rep)


def _window(chosen: Scope) -> Window:
    return Window(start=chosen.start, end=chosen.end, team=chosen.team, rep=chosen.rep)


async def _store(services: Services) -> MetricsStore:
    return MetricsStore(services.db)


Figures = Annotated[MetricsStore, Depends(_store)]


@router.get("/v1/metrics", response_model=MetricsOut, dependencies=[admin],
            summary="The six transfer metrics over a window, with counts by branch and trigger category")
async def get_metrics(store: Figures, chosen: Scope = Depends(chosen_scope)) -> MetricsOut:
    records = await blocking(store.transfers, chosen)
    return MetricsOut(window=_window(chosen), metrics=metrics(records))


@router.get("/v1/metrics/series", response_model=SeriesOut, dependencies=[admin],
            summary="The same metrics per hour or per (UTC) day of transfer creation")
async def get_series(store: Figures, chosen: Scope = Depends(chosen_scope),
                     bucket: Literal["hour", "day"] = Query("day")) -> SeriesOut:
    if bucket_count(chosen.start, chosen.end, bucket) > MAX_BUCKETS:  # counted before any bucket is made
        raise invalid("query.bucket", f"more than {MAX_BUCKETS} {bucket}s: use a shorter window")
    records = await blocking(store.transfers, chosen)
    return SeriesOut(window=_window(chosen), bucket=bucket,
                     buckets=series(records, chosen.start, chosen.end, bucket))


@router.get("/v1/feedback/report", response_model=FeedbackOut, dependencies=[admin],
            summary="What reps said was missing and how often prospects had to repeat themselves")
async def get_feedback_report(store: Figures, chosen: Scope = Depends(chosen_scope)) -> FeedbackOut:
    reps, prospects = await blocking(store.feedback, chosen)
    return FeedbackOut(window=_window(chosen), report=feedback_report(reps, prospects))


@router.get("/v1/queue", response_model=QueueOut, dependencies=[admin],
            summary="Transfers waiting for a rep now, per team, in serving order")
async def get_queue(store: Figures, team: str | None = Query(None, max_length=40)) -> QueueOut:
    teams = await blocking(store.queue, team)
    return QueueOut(at=datetime.now(UTC), teams=teams)


# ---- Prometheus ----------------------------------------------------------------------------------


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(metrics_scraper)])
async def prometheus(request: Request, store: Figures) -> Response:
    """Aggregates (no prospect or rep data), but a team's business figures: for the scrape token or an admin key."""
    end = datetime.now(UTC)
    records = await blocking(store.transfers, Scope(start=end - PROMETHEUS_WINDOW, end=end))
    queue = await blocking(store.queue, None)
    figures = CollectorRegistry()
    figures.register(_FiguresCollector(metrics(records), queue, step_seconds(records)))
    body = generate_latest(request.app.state.prometheus) + generate_latest(figures)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


class _FiguresCollector:
    def __init__(self, figures: Metrics, queue: list[TeamQueue], steps: dict[str, list[float]]):
        self.figures, self.queue, self.steps = figures, queue, steps

    def collect(self):  # prometheus_client's collector protocol
        f = self.figures
        yield _gauge("transfers", "Transfers created in the last 24 hours", f.transfers)
        for name, rate in (("completion", f.completion), ("continuation", f.continuation),
                           ("conversion", f.conversion), ("context_utilisation", f.context_utilisation.summary)):
            yield _gauge(f"{name}_rate", f"Transfer {name.replace('_', ' ')} rate, last 24 hours (docs/metrics.md)",
                         rate.value)
        pickup = GaugeMetricFamily("warm_transfer_pickup_seconds", "Time to rep pickup, last 24 hours",
                                   labels=["quantile"])
        for quantile, value in (("0.5", f.pickup.p50_seconds), ("0.9", f.pickup.p90_seconds)):
            if value is not None:
                pickup.add_metric([quantile], value)
        yield pickup
        yield _gauge("csat_mean", "Mean prospect CSAT (1-5), last 24 hours", f.satisfaction.mean_csat)
        yield _gauge("csat_responses", "Prospect CSAT answers, last 24 hours", f.satisfaction.count)
        yield _labelled("transfers_by_branch", "Transfers per branch, last 24 hours", "branch", f.by_branch)
        yield _labelled("transfers_by_category", "Transfers per trigger category, last 24 hours", "category",
                        f.by_category)
        yield _labelled("faults", "Transfers in which an integration failed at least once, last 24 hours (crm, "
                        "webhook, email, chat; docs/metrics.md)", "integration", f.faults)
        offers = f.offers.model_dump()
        yield _gauge("offers", "Offers made to reps, last 24 hours", offers.pop("made"))
        yield _labelled("offers_by_end", "Offers by how they ended, last 24 hours (accepted, declined, deferred, "
                        "expired, not_taken_over, callback, withdrawn; docs/metrics.md)", "end", offers)
        yield _labelled("queue_waiting", "Transfers waiting for a rep now", "team",
                        {team.team: len(team.waiting) for team in self.queue})
        steps = GaugeMetricFamily("warm_transfer_step_seconds", "Seconds each workflow step took, last 24 hours "
                                  "(routing, rep_answer, take_over, conversation; docs/metrics.md)",
                                  labels=["step", "quantile"])
        for step, times in self.steps.items():
            for quantile, p in (("0.5", 50), ("0.9", 90), ("0.99", 99)):
                if (value := percentile(times, p)) is not None:
                    steps.add_metric([step, quantile], value)
        yield steps


def _gauge(name: str, help_text: str, value: float | None) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(f"warm_transfer_{name}", help_text)
    if value is not None:  # an unknown rate is no sample, not a 0 that would read as "none completed"
        gauge.add_metric([], value)
    return gauge


def _labelled(name: str, help_text: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(f"warm_transfer_{name}", help_text, labels=[label])
    for key, value in values.items():
        gauge.add_metric([key], value)
    return gauge


class _RequestLatency:
    """ASGI middleware: seconds until the response starts, per method, route template and status.

    Until the response *starts*, so an SSE stream counts its time to first byte, not how long it stayed open."""

    def __init__(self, app, histogram: Histogram):  # any ASGI app
        self.app, self.histogram = app, histogram

    async def __call__(self, scope, receive, send):  # ASGI
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()

        async def timed_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                route = getattr(scope.get("route"), "path", "unmatched")  # the template: bounded label values
                self.histogram.labels(scope["method"], route, str(message["status"])).observe(
                    time.perf_counter() - started)
            await send(message)

        await self.app(scope, receive, timed_send)


def install(app: FastAPI) -> None:
    """Time every request. One registry per app, so several apps in one process (tests) never collide."""
    app.state.prometheus = CollectorRegistry()
    histogram = Histogram("warm_transfer_http_request_duration_seconds", "API latency until the response starts",
                          ["method", "route", "status"], registry=app.state.prometheus,
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
    app.add_middleware(_RequestLatency, histogram=histogram)
