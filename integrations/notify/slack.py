"""Chat alerts to Slack through its Web API (chat.postMessage), delivered from the outbox like e-mail."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from integrations.notify.base import DeliveryError
from integrations.notify.dispatch import OutboxDispatcher
from store.db import Database
from store.outbox import PendingDelivery

POST_MESSAGE = "https://slack.com/api/chat.postMessage"


class SlackDispatcher(OutboxDispatcher):
    channel = "chat"

    def __init__(self, db: Database, token: str, client: httpx.Client | None = None, max_attempts: int = 8, *,
                 batch_size: int = 20, lease: timedelta = timedelta(minutes=5)):
        super().__init__(db, max_attempts=max_attempts, batch_size=batch_size, lease=lease)
        self.token = token
        self.client = client or httpx.Client(timeout=10)

    def send(self, delivery: PendingDelivery, now: datetime) -> None:
        try:
            response = self.client.post(
                POST_MESSAGE, headers={"Authorization": f"Bearer {self.token}"},
                json={"channel": delivery.chat_to, "text": delivery.row.payload["chat_text"], "unfurl_links": False})
        except httpx.HTTPError as exc:
            raise DeliveryError(f"Slack unreachable: {exc}") from exc
        # Slack answers most failures with HTTP 200 and {"ok": false, "error": "..."}; 429 means slow down.
        if response.status_code != 200:
            raise DeliveryError(f"Slack answered HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise DeliveryError("Slack answered something that is not JSON") from None
        if not isinstance(answer, dict) or not answer.get("ok"):
            error = answer.get("error", "unknown error") if isinstance(answer, dict) else "not an object"
            raise DeliveryError(f"Slack refused the post: {error}")

    def close(self) -> None:
        self.client.close()
