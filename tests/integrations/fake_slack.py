"""Slack's Web API faked at its HTTP boundary (respx), in its real shapes: `{"ok": true, ...}` with the method's
fields, or `{"ok": false, "error": "..."}`, always with HTTP 200."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

import httpx
import respx

from integrations.notify.slack import OPEN_CONVERSATION, POST_MESSAGE, UPDATE_MESSAGE


@dataclass
class Call:
    method: str
    body: dict
    token: str


@dataclass
class FakeSlack:
    """conversations.open opens the member's direct messages (`D` + the member id without its `U`);
    chat.postMessage posts with a new ts; chat.update edits a message posted before. `fail[method]` holds errors
    to answer that method with first, one per call."""

    calls: list[Call] = field(default_factory=list)
    fail: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    messages: dict[tuple[str, str], dict] = field(default_factory=dict)  # (channel, ts) -> the message as it is now

    def __post_init__(self) -> None:
        self.router = respx.MockRouter(assert_all_called=False)
        methods = {OPEN_CONVERSATION: self._open, POST_MESSAGE: self._post, UPDATE_MESSAGE: self._update}
        for url, answer in methods.items():
            self.router.post(url).mock(side_effect=self._answering(answer))

    def __enter__(self) -> FakeSlack:
        self.router.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.router.__exit__(*exc)

    def sent(self, method: str) -> list[dict]:
        return [call.body for call in self.calls if call.method == method]

    def _answering(self, answer):
        def respond(request: httpx.Request) -> httpx.Response:
            method = request.url.path.rpartition("/")[2]
            body = json.loads(request.content)
            self.calls.append(Call(method, body, request.headers["Authorization"].removeprefix("Bearer ")))
            if self.fail[method]:
                return httpx.Response(200, json={"ok": False, "error": self.fail[method].pop(0)})
            return httpx.Response(200, json=answer(body))
        return respond

    @staticmethod
    def _open(body: dict) -> dict:
        return {"ok": True, "channel": {"id": f"D{body['users'][1:]}"}}

    def _post(self, body: dict) -> dict:
        ts = f"{1700000000 + len(self.messages)}.000100"
        message = {"type": "message", "text": body["text"], "blocks": body.get("blocks", []), "ts": ts}
        self.messages[(body["channel"], ts)] = message
        return {"ok": True, "channel": body["channel"], "ts": ts, "message": message}

    def _update(self, body: dict) -> dict:
        key = (body["channel"], body["ts"])
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        self.messages[key] = {**self.messages[key], "text": body["text"], "blocks": body.get("blocks", [])}
        return {"ok": True, "channel": body["channel"], "ts": body["ts"], "text": body["text"],
                "message": self.messages[key]}
