"""The client without I/O: what each operation sends and how its answer reads, and how an event stream resumes.

Each operation is written once here, as a function that returns a `Call` (method, path, body and how to read the
answer's JSON). `WarmTransfer` and `AsyncWarmTransfer` only send what `Endpoint.build` makes and hand the answer to
`Endpoint.read`, one with httpx's blocking client, the other with its asyncio one; so the two clients cannot drift
apart, and a new operation is one function here plus one line in each client.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter

from warm_transfer_client.errors import UnexpectedAnswer, Unreachable, WarmTransferError, error_for
from warm_transfer_client.models import (
    EvaluateRequest,
    Evaluation,
    Event,
    Feedback,
    Outcome,
    ProspectAction,
    ProspectActionName,
    ProspectFeedback,
    RepAction,
    RepActionName,
    RepFeedback,
    StartTransfer,
    TransferView,
    TriggerInfo,
)

T = TypeVar("T")
_FEEDBACK: TypeAdapter[RepFeedback | ProspectFeedback] = TypeAdapter(Feedback)


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request to the API and how to read its answer's JSON."""

    method: str
    path: str
    read: Callable[[Any], T]
    body: Any = None  # JSON


def _sent(model: Any) -> Any:
    """A request model as JSON: by the API's field names (`from`), without what is left unset to None."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def _get(data: Any, name: str) -> Any:
    return data.get(name) if isinstance(data, dict) else None


def _transfer(transfer_id: str, action: str = "") -> str:
    return f"/v1/transfers/{quote(transfer_id, safe='')}{action}"


# ---- the operations -------------------------------------------------------------------------------------------


def start(request: StartTransfer | Mapping[str, Any], *, evaluation: Evaluation | None = None) -> Call[TransferView]:
    """Start a transfer, or get the one this key already started with this request's transfer_id.

    `evaluation`, what `evaluate` answered for this conversation, is kept with the transfer (as its `trigger`) so the
    metrics count transfers by trigger category. Answers with the transfer's view, whose last bot line is what the
    bot says next."""
    request = StartTransfer.model_validate(request)
    if evaluation is not None:
        if "trigger" in request.model_fields_set:
            raise ValueError("give either the request's trigger or an evaluation, not both")
        request = request.model_copy(update={"trigger": TriggerInfo.from_evaluation(evaluation)})
    return Call("POST", "/v1/transfers", TransferView.model_validate, _sent(request))


def view(transfer_id: str) -> Call[TransferView]:
    """The transfer now: state, rep, queue, follow-up time, bot lines and timeline."""
    return Call("GET", _transfer(transfer_id), TransferView.model_validate)


def prospect(transfer_id: str, action: ProspectActionName, *, note: str | None = None,
             callback_at: datetime | None = None, phone: str | None = None,
             email: str | None = None) -> Call[TransferView]:
    """Pass on the prospect's answer: `note` (with `note`), `proceed`, `wait`, `callback` (`callback_at`, `phone`),
    `email` (`email`), `replied` or `left`."""
    body = ProspectAction(action=action, note=note, callback_at=callback_at, phone=phone, email=email)
    return Call("POST", _transfer(transfer_id, "/prospect"), TransferView.model_validate, _sent(body))


def rep(transfer_id: str, action: RepActionName, *, callback_at: datetime | None = None,
        outcome: Outcome | None = None, defer_to: str | None = None, reason: str | None = None) -> Call[TransferView]:
    """A rep's action on a transfer offered to them, with the rep's key: `accept`, `decline` (`reason`), `defer`
    (`defer_to`), `schedule_callback` (`callback_at`), `ack` or `outcome` (`outcome`)."""
    body = RepAction(action=action, callback_at=callback_at, outcome=outcome, defer_to=defer_to, reason=reason)
    return Call("POST", _transfer(transfer_id, "/rep"), TransferView.model_validate, _sent(body))


def feedback(transfer_id: str, feedback: RepFeedback | ProspectFeedback | Mapping[str, Any]) -> Call[TransferView]:
    """Once the transfer is completed: the prospect's CSAT (`ProspectFeedback`, with the bot's key) or the rep's
    feedback (`RepFeedback`, with the rep's key)."""
    body = _FEEDBACK.validate_python(feedback)
    return Call("POST", _transfer(transfer_id, "/feedback"), TransferView.model_validate, _sent(body))


def evaluate(request: EvaluateRequest | Mapping[str, Any]) -> Call[Evaluation]:
    """Should this conversation go to a human now? Category, triggers with evidence, urgency and timing."""
    body = EvaluateRequest.model_validate(request)
    return Call("POST", "/v1/triggers/evaluate", Evaluation.model_validate, _sent(body))


def request(method: str, path: str, json: Any = None) -> Call[Any]:
    """Any other operation of the API (see its OpenAPI document at /docs): the answer's JSON as it is."""
    return Call(method.upper(), path, lambda answer: answer, json)


# ---- sending and reading --------------------------------------------------------------------------------------


class Endpoint:
    """The API at `base_url`, called with `api_key` (sent in the Authorization header, nowhere else)."""

    def __init__(self, base_url: str, api_key: str, user_agent: str):
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}", "User-Agent": user_agent}

    def __repr__(self) -> str:  # never the key
        return f"Endpoint({self.base_url!r})"

    def build(self, call: Call[Any], headers: Mapping[str, str] | None = None) -> httpx.Request:
        return httpx.Request(call.method, self.base_url + call.path, json=call.body,
                             headers={**self._headers, **(headers or {})})

    @staticmethod
    def read(call: Call[T], response: httpx.Response) -> T:
        """The answer as `call` reads it; raises the ApiError of an error status."""
        if response.is_error:
            raise error_for(response, call.method, call.path)
        try:
            return call.read(response.json() if response.content else None)
        except ValueError as err:  # not JSON, or not the model (a pydantic ValidationError is a ValueError)
            raise UnexpectedAnswer(f"{call.method} {call.path}'s answer ({response.status_code})", err) from err


def unreachable(call: Call[Any], err: httpx.TransportError) -> Unreachable:
    failure = Unreachable(f"{call.method} {call.path}: no answer ({type(err).__name__}: {err})")
    failure.__cause__ = err
    return failure


# ---- event streams --------------------------------------------------------------------------------------------


class EventStream:
    """A transfer's server-sent events, followed across connections.

    The clients loop: send `request()`; hand the answer to `opened()`; `feed()` it each line, yielding the events
    it completes; when the connection fails or ends, wait `reconnect_delay(failure)` and start again. Each new
    connection asks for the events after the last one received (Last-Event-ID), so none is lost or repeated.
    `reconnects` failures in a row without an event in between end it with the last failure."""

    FIRST_DELAY, MOST_DELAY = 0.5, 10.0  # seconds before reconnecting, doubled on each failure in a row

    def __init__(self, endpoint: Endpoint, transfer_id: str, after: int | None, reconnects: int):
        self.endpoint, self.last_id, self.reconnects = endpoint, after, reconnects
        self.call: Call[None] = Call("GET", _transfer(transfer_id, "/events"), lambda _: None)
        self.failures = 0
        self.server_delay: float | None = None  # the stream's `retry:` field, in seconds
        self._lines: list[str] = []

    def request(self) -> httpx.Request:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if self.last_id is not None:
            headers["Last-Event-ID"] = str(self.last_id)
        self._lines = []  # an event cut off by the last connection's end is sent again after the last id
        return self.endpoint.build(self.call, headers)

    def opened(self, response: httpx.Response) -> None:
        """Raises the ApiError of an error status (read already)."""
        if response.is_error:
            raise error_for(response, self.call.method, self.call.path)

    def feed(self, line: str) -> Event | None:
        """The event this line completes, if any (server-sent events: fields until a blank line)."""
        if line:
            self._lines.append(line)
            return None
        lines, self._lines = self._lines, []
        fields: dict[str, list[str]] = {}
        for field_line in lines:
            if field_line.startswith(":"):  # a comment: the server's keep-alive ping
                continue
            name, _, value = field_line.partition(":")
            fields.setdefault(name, []).append(value.removeprefix(" "))
        if "retry" in fields and fields["retry"][-1].isdigit():
            self.server_delay = int(fields["retry"][-1]) / 1000
        if "data" not in fields or "id" not in fields:
            return None
        try:
            payload = json.loads("\n".join(fields["data"]))
            event = Event.model_validate({"id": fields["id"][-1], "kind": fields.get("event", ["message"])[-1],
                                          "payload": payload, "transfer_id": _get(payload, "transfer_id")})
        except ValueError as err:  # not JSON, or not an event
            raise UnexpectedAnswer(f"an event of GET {self.call.path}", err) from err
        self.last_id, self.failures = event.id, 0
        return event

    def reconnect_delay(self, failure: WarmTransferError | httpx.TransportError | None) -> float:
        """Seconds to wait before the next connection, after `failure` (None: the server ended the stream); raises
        the failure once `reconnects` have failed in a row."""
        self.failures += 1
        if isinstance(failure, httpx.TransportError):
            failure = unreachable(self.call, failure)
        if self.failures > self.reconnects:
            raise failure or Unreachable(f"GET {self.call.path}: the stream ended {self.failures} times in a row")
        waited = getattr(failure, "retry_after", None) or self.server_delay
        return waited if waited is not None else min(self.FIRST_DELAY * 2 ** (self.failures - 1), self.MOST_DELAY)
