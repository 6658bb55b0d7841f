"""Every error is JSON {"error": {"code", "message", "details"}} with the right status; never a bare 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("warm_transfer.api")
DATABASE_RETRY_AFTER = 2  # seconds: a database restart or failover, not a long outage


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: object = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers  # e.g. a 503's Retry-After


def invalid(field: str, problem: str) -> ApiError:
    """A 422 for one field, in the shape of a validation error's (see `_validation_details`)."""
    return ApiError(422, "invalid_request", f"{field}: {problem}", [{"field": field, "problem": problem}])


def error_body(code: str, message: str, details: object = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


class ErrorInfo(BaseModel):
    code: str = Field(description="What went wrong, for programs: `unauthorized`, `forbidden`, `not_found`, "
                      "`conflict`, `rejected`, `closed`, `too_large`, `invalid_request`, `unavailable`, ...")
    message: str = Field(description="What went wrong, for people")
    details: Any = Field(None, description="For `invalid_request`: one `{field, problem, type}` per problem")


class ErrorBody(BaseModel):
    """Every error answer of the API."""

    error: ErrorInfo


_MEANINGS = {
    401: "No API key, or an unknown or revoked one (`unauthorized`)",
    403: "The key's role may not do this (`forbidden`)",
    404: "No such thing, or not one this key may see (`not_found`)",
    409: "Not possible in the current state, which is unchanged (`conflict`, `rejected`, `closed`)",
    413: "The request body is larger than `WT_MAX_REQUEST_BYTES` (`too_large`)",
    422: "The request is invalid: `details` names each field and its problem (`invalid_request`)",
    503: "Temporal or the database did not answer; nothing was changed, try again after `Retry-After` seconds "
         "(`unavailable`)",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for these error statuses, each with the ErrorBody schema."""
    return {status: {"model": ErrorBody, "description": _MEANINGS[status]} for status in statuses}


def _validation_details(exc: RequestValidationError) -> list[dict]:
    return [{"field": _field(err), "problem": _problem(err), "type": err.get("type")} for err in exc.errors()]


def _field(err: dict) -> str:
    if err.get("type") == "json_invalid":  # its place is a character offset, not a field
        return ""
    return ".".join(str(part) for part in err.get("loc", ()) if part != "body")


def _problem(err: dict) -> str:
    """pydantic's message, made plain for the two a client meets before any field is read."""
    kind, where = err.get("type"), err.get("loc", ())
    if kind == "json_invalid":
        why = (err.get("ctx") or {}).get("error", "it does not parse")
        at = f" at character {where[1]}" if len(where) > 1 else ""
        return f"not valid JSON{at}: {why}"
    if tuple(where) == ("body",) and kind in ("model_attributes_type", "dict_type"):
        return "not a JSON object: send one, with 'Content-Type: application/json'"
    return err.get("msg", "invalid")


def _answer(error: ApiError) -> JSONResponse:
    return JSONResponse(error_body(error.code, error.message, error.details), status_code=error.status,
                        headers=error.headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _answer(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        first = details[0] if details else {"field": "", "problem": "invalid request"}
        message = f"{first['field'] or 'body'}: {first['problem']}"
        return JSONResponse(error_body("invalid_request", message, details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI's answer to a body it could not decode (not UTF-8, say): bad input,
            return _answer(invalid("body", "could not be read as JSON"))  # as malformed JSON is (422)
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 413: "too_large"}.get(
            exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def _database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        # A line, not a traceback: an outage would otherwise log one per request. The driver's text is left out, as
        # it may quote a statement's values.
        log.warning("database unavailable: %s", type(getattr(exc, "orig", None) or exc).__name__)
        return _answer(ApiError(503, "unavailable", "The database did not answer; nothing was changed, try again",
                                headers={"Retry-After": str(DATABASE_RETRY_AFTER)}))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(
            error_body("internal", "An unexpected error occurred; it has been logged."), status_code=500
        )
