"""The ops dashboard: one static page and its assets, all shipped with the app (it must work with no internet).

The page holds no data: it asks /v1/metrics, /v1/metrics/series, /v1/feedback/report and /v1/queue
with the admin key the user types in.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.errors import ApiError

router = APIRouter(include_in_schema=False)

PAGE_DIR = Path(__file__).resolve().parent.parent / "dashboard"
# Every script, style and font comes from this origin; nothing else may load.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                               "frame-ancestors 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# Served by name from a list made at startup: a request can never reach another file.
ASSETS = {path.relative_to(PAGE_DIR).as_posix(): path
          for path in PAGE_DIR.rglob("*") if path.is_file() and path.name != "index.html"}


@router.get("/dashboard")
async def dashboard() -> FileResponse:
    return FileResponse(PAGE_DIR / "index.html", headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


@router.get("/dashboard/{asset:path}")
async def dashboard_asset(asset: str) -> FileResponse:
    path = ASSETS.get(asset)
    if path is None:
        raise ApiError(404, "not_found", f"No dashboard file {asset!r}.")
    return FileResponse(path, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})
