"""A fake OpenAI-compatible Chat Completions server on loopback, in the real API's shapes: a `chat.completion` with
`choices[0].message.content`, `refusal`, `finish_reason` and `usage`; errors as `{"error": {"message", "type",
"param", "code"}}`; a request whose strict `json_schema` breaks the structured-output rules refused with 400, as the
real API refuses it."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.conftest import QuietHandler, Received, http_server

MODEL = "wt-test-model"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    hang: bool = False
    """Answer nothing until the server stops: a model that takes too long."""


def completion(content: str | None, *, finish_reason: str = "stop", refusal: str | None = None) -> Reply:
    body = {
        "id": "chatcmpl-wt0001", "object": "chat.completion", "created": 1_765_000_000, "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": refusal},
                     "logprobs": None, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 812, "completion_tokens": 64, "total_tokens": 876},
    }
    return Reply(200, json.dumps(body).encode())


def answer(triggers: list[dict], advice: str | None = "now", reasons: tuple[str, ...] = ("a reason",),
           missing: tuple[str, ...] = ()) -> Reply:
    """A completion whose content is a structured answer: triggers as `{"name", "evidence", "confidence"}`."""
    timing = {"advice": advice, "reasons": list(reasons) if advice else [], "missing": list(missing)}
    return completion(json.dumps({"triggers": triggers, "timing": timing}))


def error(status: int, message: str, kind: str, code: str | None) -> Reply:
    return Reply(status, json.dumps({"error": {"message": message, "type": kind, "param": None,
                                               "code": code}}).encode())


HANG = Reply(200, b"", hang=True)


@dataclass
class ChatServer:
    url: str
    """The base URL, as `WT_TRIGGER_LLM_URL` takes it."""
    requests: list[Received] = field(default_factory=list)
    replies: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    stopping: threading.Event = field(default_factory=threading.Event)

    def reply(self, *replies: Reply) -> None:
        """The next requests' answers, in order; when none is left, an answer with no trigger."""
        for item in replies:
            self.replies.put(item)


@contextmanager
def chat_server() -> Iterator[ChatServer]:
    class Handler(QuietHandler):
        def do_POST(self) -> None:  # http.server naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            server.requests.append(Received(self.path, dict(self.headers), body))
            try:
                reply = server.replies.get_nowait()
            except queue.Empty:
                reply = answer([], advice=None)
            if self.path != "/v1/chat/completions":
                reply = error(404, "Unknown request URL", "invalid_request_error", "unknown_url")
            elif problem := _request_problem(json.loads(body)):
                reply = error(400, problem, "invalid_request_error", None)
            if reply.hang:
                server.stopping.wait()
                return
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

    with http_server(Handler) as http:
        server = ChatServer(url=f"http://127.0.0.1:{http.server_address[1]}/v1")
        try:
            yield server
        finally:
            server.stopping.set()  # a hanging answer ends


def _request_problem(body: dict) -> str | None:
    """What the real API would refuse in this request, if anything."""
    if not isinstance(body.get("model"), str) or not isinstance(body.get("messages"), list):
        return "'model' and 'messages' are required"
    response_format = body.get("response_format") or {}
    if response_format.get("type") != "json_schema":
        return None
    schema = response_format.get("json_schema") or {}
    if not schema.get("name") or not isinstance(schema.get("schema"), dict):
        return "Missing required parameter: 'response_format.json_schema.name' or '.schema'"
    return _strict_problem(schema["schema"]) if schema.get("strict") else None


def _strict_problem(schema: object, where: str = "schema") -> str | None:
    """Structured outputs' strict mode: every object closed (`additionalProperties: false`) with every property
    required, and no `default`."""
    if isinstance(schema, list):
        return next((problem for item in schema if (problem := _strict_problem(item, where))), None)
    if not isinstance(schema, dict):
        return None
    if "default" in schema:
        return f"Invalid schema: In context={where}, 'default' is not permitted"
    if schema.get("type") == "object":
        if schema.get("additionalProperties") is not False:
            return (f"Invalid schema: In context={where}, 'additionalProperties' is required to be supplied and to be "
                    "false")
        if sorted(schema.get("required", [])) != sorted(schema.get("properties", {})):
            return f"Invalid schema: In context={where}, 'required' is required to include every key in 'properties'"
    return next((problem for key, value in schema.items()
                 if (problem := _strict_problem(value, f"{where}.{key}"))), None)
