"""What can go wrong, as exceptions: every one is a WarmTransferError.

An answer with an error status raises the ApiError subclass for its status, carrying the API's error body
(`{"error": {"code", "message", "details"}}`); no answer at all raises Unreachable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from pydantic import ValidationError

from warm_transfer_client.models import ErrorBody, ErrorInfo


class WarmTransferError(Exception):
    """Anything this client raises."""


class Unreachable(WarmTransferError):
    """No answer: the connection failed, was cut or timed out. The request may or may not have been acted on; a
    start sent again with the same transfer_id returns the same transfer."""


class UnexpectedAnswer(WarmTransferError):
    """A success status with a body this client cannot read: a server of another version, or not the API."""

    def __init__(self, what: str, problem: ValueError):
        super().__init__(f"{what} is not what the API documents: {unreadable(problem)}")


def unreadable(problem: ValueError) -> str:
    """What is wrong with a body, naming fields but never their values (which may be about a prospect)."""
    if isinstance(problem, ValidationError):
        return "; ".join(f"{'.'.join(map(str, error['loc'])) or 'body'}: {error['msg']}"
                         for error in problem.errors(include_input=False, include_url=False))
    return f"not JSON ({type(problem).__name__})"


class InvalidSignature(WarmTransferError):
    """A webhook request whose X-WT-Signature does not prove it came from the API: drop it. `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(f"invalid webhook signature: {reason}")
        self.reason = reason


class ApiError(WarmTransferError):
    """The API answered with an error status. `error` is its body: `code` for programs, `message` for people, and
    for 422 `details` with one `{field, problem, type}` per problem."""

    def __init__(self, status: int, error: ErrorInfo, method: str, path: str):
        super().__init__(f"{method} {path} answered {status} ({error.code}): {error.message}")
        self.status, self.error, self.method, self.path = status, error, method, path

    @property
    def code(self) -> str:
        return self.error.code

    @property
    def message(self) -> str:
        return self.error.message

    @property
    def details(self) -> object:
        return self.error.details


class Unauthorized(ApiError):
    """401: no API key, or an unknown or revoked one."""


class Forbidden(ApiError):
    """403: the key's role may not do this."""


class NotFound(ApiError):
    """404: no such transfer, or not one this key may see."""


class Conflict(ApiError):
    """409: not possible in the transfer's current state (which is unchanged), or a transfer_id already used for
    another request."""


class TooLarge(ApiError):
    """413: the request body is larger than the API takes."""


class InvalidRequest(ApiError):
    """422: the request is invalid; `details` names each field and its problem."""


class ServerError(ApiError):
    """5xx: the API failed."""


class Unavailable(ServerError):
    """503: the API cannot reach Temporal now; nothing was changed. Try again after `retry_after` seconds."""

    def __init__(self, status: int, error: ErrorInfo, method: str, path: str, retry_after: float | None):
        super().__init__(status, error, method, path)
        self.retry_after = retry_after


_BY_STATUS: dict[int, type[ApiError]] = {401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict,
                                         413: TooLarge, 422: InvalidRequest}


def error_for(response: httpx.Response, method: str, path: str) -> ApiError:
    """The exception for an answer with an error status (its body read already)."""
    try:
        error = ErrorBody.model_validate_json(response.content).error
    except ValidationError:  # not the API's error body: a proxy's page, say, which is not repeated here
        error = ErrorInfo(code="http_error", message=f"HTTP {response.status_code} without the API's error body")
    status = response.status_code
    if status == 503:
        return Unavailable(status, error, method, path, retry_after(response.headers.get("Retry-After")))
    kind = _BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    return kind(status, error, method, path)


def retry_after(value: str | None) -> float | None:
    """Seconds to wait, from a Retry-After header: a number of seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None
