"""What a transfer makes known, and to whom: notices that the notifier delivers to bots, reps, prospects, ops."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Audience = Literal["bot", "rep", "prospect", "ops"]


class Notice(BaseModel):
    key: str = Field(min_length=1, max_length=200, description="Idempotency key, unique within the transfer.")
    transfer_id: str = Field(min_length=1, max_length=100)
    audience: Audience
    rep_id: str | None = None
    kind: str = Field(min_length=1, max_length=64)
    payload: dict[str, Any] = {}
    callback_url: str | None = Field(default=None, description="The bot's webhook target.")
    email_to: str | None = Field(default=None, description="Send as e-mail: payload needs 'subject' and 'body'.")
    chat_to: str | None = Field(default=None, description="Post to this chat channel: payload needs 'chat_text'.")


Channel = Literal["webhook", "email", "chat"]


class DeliveryFailure(BaseModel):
    """A notice that a channel outside the app (the bot's webhook, e-mail, Slack) could not deliver: reported to its
    transfer on the first failed attempt and when delivery is given up, for its timeline and the metrics."""

    channel: Channel
    notice: str = Field(max_length=64, description="the notice's kind: offer, bot_line, confirmation, ...")
    audience: Audience
    rep_id: str | None = None
    error: str = Field(max_length=300)
    final: bool = Field(description="delivery was given up; otherwise it is retried")
