"""While the database does not answer, the API says so with 503 and Retry-After (a bot's client retries those),
logs a line per request rather than a traceback, and answers again as soon as the database is back."""

from __future__ import annotations

import logging

import httpx
import pytest

from api.app import create_app
from config import Settings
from store.schema import migrate
from tests.conftest import postgres_admin, throwaway_postgres
from tests.e2e.conftest import ADMIN_KEY, serving
from workers.services import build_services
from workers.stack import bind_api_socket

pytestmark = pytest.mark.postgres


def refuse_connections(database: str, refuse: bool) -> None:
    """The database stops (or starts again) taking connections, and drops the ones it has: an outage as the API
    sees one, on the machine's shared server."""
    admin = postgres_admin()
    admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {"false" if refuse else "true"}')
    if refuse:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,))
    admin.close()


async def test_a_database_outage_is_a_503_to_retry_not_a_500(caplog):
    with throwaway_postgres("wt_outage") as url:
        settings = Settings(database_url=url, admin_key=ADMIN_KEY)
        services = build_services(settings)
        migrate(services.db)
        sock = bind_api_socket("127.0.0.1", 0)
        database = url.rsplit("/", 1)[1]
        try:
            async with serving(create_app(settings, services, client=None), sock), httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{sock.getsockname()[1]}",
                    headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as admin:
                assert (await admin.get("/v1/reps")).status_code == 200
                refuse_connections(database, True)
                caplog.set_level(logging.WARNING, logger="warm_transfer.api")
                for down in (await admin.get("/v1/reps"), await admin.get("/v1/metrics"),
                             await admin.post("/v1/api-keys", json={"role": "bot"})):
                    assert down.status_code == 503, (down.request.url, down.text)
                    assert down.json()["error"]["code"] == "unavailable" and down.headers["Retry-After"] == "2"
                assert not any(record.exc_info for record in caplog.records)  # no traceback per request
                refuse_connections(database, False)
                assert (await admin.get("/v1/reps")).status_code == 200
        finally:
            refuse_connections(database, False)  # so the database can be dropped
            sock.close()
            services.db.dispose()
