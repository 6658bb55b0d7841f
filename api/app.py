"""The HTTP API: a thin layer that authenticates, validates and calls Temporal or reads the store."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client.registry import Collector
from swagger_ui_bundle import swagger_ui_path
from temporalio.client import Client

from api.access_log import redact_access_log
from api.briefs import Briefs
from api.deps import ApiServices
from api.errors import install_error_handlers
from api.headers import SecurityHeaders
from api.limits import RequestBodyLimit
from api.log_context import TransferInLog
from api.routers import codec, console, dashboard, health, keys, metrics, reps, slack, transfers, triggers
from api.threads import blocking
from api.transfer_client import TransferClient
from config import Settings
from domain.triggers import load_policy
from integrations.triggers.chat import ChatEndpoint
from integrations.triggers.factory import build_evaluator
from integrations.triggers.local import shipped_meaning
from store.wakeup_pg import listening
from store.wakeup_relay import RelayListener

ADMIN_KEY_SETTING = "WT_ADMIN_KEY"  # how the keys this setting stood for are marked (api_keys.setting)
log = logging.getLogger(__name__)


def create_app(settings: Settings, services: ApiServices, client: Client,
               sdk_metrics: Collector | None = None) -> FastAPI:
    """The app, on the stores, integrations and Temporal client it is given (the caller owns them); `sdk_metrics`,
    the Temporal SDK's metrics, are exposed on `/metrics` beside the app's."""

    transfer_client = TransferClient(client, settings, services.capacity)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.admin_key:  # the admin key of the environment; the one it stood for before is revoked
            stood = await blocking(services.keys.stand_for, ADMIN_KEY_SETTING, settings.admin_key, datetime.now(UTC))
            if stood.revoked_others:
                log.warning("WT_ADMIN_KEY changed: the admin key it stood for before is revoked.")
            if not stood.usable:
                log.warning("WT_ADMIN_KEY is a revoked key (API key id %s): it does not work. Set a new value.",
                            stood.key_id)
        listener = RelayListener(settings.wakeup_dir, services.outbox.appended) if settings.wakeup_dir else None
        if listener is not None:  # a worker in another process of this host wakes our event streams
            listener.start()
        # On PostgreSQL, a worker on any host does (LISTEN/NOTIFY).
        across_hosts = nullcontext() if services.db.is_sqlite else listening(services.db, services.outbox.appended)
        watching = asyncio.create_task(transfer_client.reachability.watch(), name="temporal-reachability")
        try:
            async with across_hosts:
                yield
        finally:
            watching.cancel()
            await app.state.trigger_evaluator.aclose()
            if listener is not None:
                listener.close()

    app = FastAPI(
        docs_url=None,  # served below from files the app ships: the docs must work with no internet
        title="Warm Transfer",
        version="0.1.0",
        lifespan=lifespan,
        description="Hand a prospect from a sales bot to a human rep without the prospect repeating "
        "a word. Every transfer is a durable Temporal workflow.",
    )
    app.state.services = services
    app.state.transfers = transfer_client
    app.state.briefs = Briefs(transfer_client, services.integrations.crm, services.reps)
    app.state.poll_interval = settings.stream_poll_seconds
    app.state.metrics_token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    app.state.database_check = health.DatabaseCheck(services.db)
    install_error_handlers(app)
    app.add_middleware(codec.CodecCors, origins=frozenset(settings.codec_origins))
    app.add_middleware(RequestBodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(TransferInLog)
    app.add_middleware(SecurityHeaders)
    redact_access_log()
    for router in (transfers.router, reps.router, keys.router, triggers.router, slack.router, console.router,
                   metrics.router, dashboard.router, codec.router, health.router):
        app.include_router(router)
    metrics.install(app)
    if sdk_metrics is not None:
        app.state.prometheus.register(sdk_metrics)
    # Once: a broken policy file stops startup.
    app.state.trigger_evaluator = build_evaluator(load_policy(settings.trigger_policy),
                                                  shipped_meaning() if settings.trigger_meaning else None,
                                                  _trigger_model(settings), registry=app.state.prometheus)

    app.mount("/static/swagger", StaticFiles(directory=swagger_ui_path), name="swagger")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title}: API docs",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/swagger/favicon-32x32.png")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:  # the address `make up` prints leads somewhere useful
        return RedirectResponse("/docs")

    return app


def _trigger_model(settings: Settings) -> ChatEndpoint | None:
    if not settings.trigger_llm_url or not settings.trigger_llm_model:  # both or neither: Settings checks
        return None
    key = settings.trigger_llm_key.get_secret_value() if settings.trigger_llm_key else None
    return ChatEndpoint(settings.trigger_llm_url, settings.trigger_llm_model, key, settings.trigger_llm_timeout)
