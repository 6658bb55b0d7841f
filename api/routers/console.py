"""The rep console: one static page and its modules, served by the app so it works with no internet."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.errors import ApiError

router = APIRouter(tags=["console"], include_in_schema=False)
CONSOLE_DIR = (Path(__file__).parent.parent / "console").resolve()
# Only the app's own files, and nothing inline: a stray or injected outside resource is refused by the browser.
_POLICY = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
# Served by name from a list made at startup: a request never reaches the file system, so no path it names (outside
# the folder, with a NUL byte, too long for the OS) can reach another file or fail there.
ASSETS = {path.relative_to(CONSOLE_DIR).as_posix(): path for path in CONSOLE_DIR.rglob("*") if path.is_file()}


def _file(path: Path) -> FileResponse:
    return FileResponse(path, headers={"Content-Security-Policy": _POLICY, "Cache-Control": "no-cache"})


@router.get("/console")
async def console() -> FileResponse:
    return _file(CONSOLE_DIR / "index.html")


@router.get("/console/{asset:path}")
async def console_asset(asset: str) -> FileResponse:
    path = ASSETS.get(asset)
    if path is None:
        raise ApiError(404, "not_found", f"No console file {asset!r}.")
    return _file(path)
