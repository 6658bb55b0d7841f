"""Rep alerts in Slack, delivered from the outbox like e-mail: the seed's hot-transfer card in Block Kit, posted to the
rep's own direct messages with the app (by their Slack member id) or to the team channel. An offer's card carries its
actions (Accept, a pick list of colleagues to defer to, a date-time picker for a callback; clicks come back through
integrations.notify.slack_interactivity), and is edited in place when the offer ends, however it ended.

Slack's Web API is JSON over HTTPS (conversations.open, chat.postMessage, chat.update). Slack answers most failures
with HTTP 200 and {"ok": false, "error": "..."}; 429 means slow down. Either is retried from the outbox.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DateTimePickerElement,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from domain.reps import RepProfile
from domain.scripts import OfferOutcome, RepAlert, alert_chat, mrkdwn_escape, offer_closed, offer_words
from integrations import http
from integrations.notify.base import DeliveryError
from integrations.notify.dispatch import OutboxDispatcher
from store.db import Database
from store.outbox import PendingDelivery
from store.slack import PostedMessage, SlackStore

SLACK_API = "https://slack.com/api/"
POST_MESSAGE = f"{SLACK_API}chat.postMessage"
UPDATE_MESSAGE = f"{SLACK_API}chat.update"
OPEN_CONVERSATION = f"{SLACK_API}conversations.open"

SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,30}")  # a member id: its alerts go to the member's direct messages
ACCEPT, DEFER, CALLBACK = "wt_accept", "wt_defer", "wt_callback"  # the card's action_ids
ANYONE = "*"  # the pick list's "whoever is free first": a defer without a colleague (no rep id has a *)
ACTIONS_BLOCK = "wt_actions"  # block_id prefix of what an edit removes from the card: the actions and their labels
MAX_OPTIONS = 100  # Slack's limit for a static_select
ANSWER_LIMIT = 2**20  # bytes of Slack's answer read: a posted message comes back in it, and is well under that
# Slack's answers that no retry can change: the message is gone or the edit itself is malformed.
FINAL_ERRORS = frozenset({"message_not_found", "cant_update_message", "invalid_blocks", "msg_too_long", "no_text"})
# What Slack's `error` is kept of: a code (`channel_not_found`), never free text, which could echo what was sent.
SLACK_ERROR = re.compile(r"[a-z0-9_]{1,64}")


# ---- the messages ---------------------------------------------------------------------------------------------------


def alert_message(alert: RepAlert, locale: str, *, link: str | None = None, expires_at: datetime | None = None,
                  colleagues: Sequence[RepProfile] | None = None) -> dict[str, Any]:
    """An alert's chat fields for the outbox: `chat_text` (what notifications show) and `chat_blocks`, the seed's
    card in the words of the console's; an offer (`colleagues` given) also with its actions."""
    words = offer_words(locale)
    blocks: list[Block] = [HeaderBlock(text=_fit(alert.headline, 150)),
                           SectionBlock(text=PlainTextObject(text=_fit(alert.one_liner, 3000)))]
    if alert.lines:
        blocks.append(SectionBlock(text=PlainTextObject(text=_fit("\n".join(alert.lines), 3000))))
    footer = [MarkdownTextObject(text=words["expires"].format(when=slack_time(expires_at, "{time_secs}")))
              ] if expires_at else []
    if link:
        footer.append(MarkdownTextObject(text=f"<{link}|{words['console']}>"))
    if footer:
        blocks.append(ContextBlock(elements=footer))
    if colleagues is not None:
        blocks += _offer_actions(words, colleagues)
    return {"chat_text": alert_chat(alert, link), "chat_blocks": [block.to_dict() for block in blocks]}


def closed_message(offer_key: str, outcome: OfferOutcome, locale: str, *, rep: str | None = None,
                   colleague: str | None = None, at: datetime | None = None) -> dict[str, Any]:
    """The chat fields of an offer's end: `chat_edit` names the offer's notice, whose card loses its actions and
    says how the offer ended."""
    line = offer_closed(outcome, locale, rep=rep and mrkdwn_escape(rep), colleague=colleague and mrkdwn_escape(
        colleague), when=at and slack_time(at, "{date_short_pretty} {time}"))
    return {"chat_edit": offer_key, "chat_text": line,
            "chat_blocks": [SectionBlock(text=MarkdownTextObject(text=line)).to_dict()]}


def slack_time(at: datetime, form: str) -> str:
    """A moment every reader sees in their own time zone (Slack's date formatting); in UTC where it cannot."""
    return f"<!date^{int(at.timestamp())}^{form}|{at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC>"


def _offer_actions(words: dict[str, str], colleagues: Sequence[RepProfile]) -> list[Block]:
    options = [Option(value=ANYONE, text=words["anyone"])] + [
        Option(value=colleague.id, text=_fit(colleague.name, 75),
               description=_fit(colleague.title, 75) if colleague.title else None)
        for colleague in colleagues[:MAX_OPTIONS - 1]]
    return [
        ActionsBlock(block_id=f"{ACTIONS_BLOCK}:offer", elements=[
            ButtonElement(text=words["accept"], action_id=ACCEPT, value="accept", style="primary"),
            StaticSelectElement(placeholder=words["defer"], action_id=DEFER, options=options)]),
        SectionBlock(block_id=f"{ACTIONS_BLOCK}:callback-label", text=PlainTextObject(text=words["callback"])),
        ActionsBlock(block_id=f"{ACTIONS_BLOCK}:callback", elements=[DateTimePickerElement(action_id=CALLBACK)]),
    ]


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _card(blocks: list[dict]) -> list[dict]:
    """The blocks an edit keeps: the alert without its actions."""
    return [block for block in blocks if not str(block.get("block_id", "")).startswith(ACTIONS_BLOCK)]


# ---- delivery -------------------------------------------------------------------------------------------------------


class SlackDispatcher(OutboxDispatcher):
    channel = "chat"

    def __init__(self, db: Database, token: str, client: httpx.Client | None = None, max_attempts: int = 8, *,
                 batch_size: int = 20, lease: timedelta = timedelta(minutes=5), timeout: float = 10.0):
        """`timeout`: seconds each call to Slack may take in all, from connecting to the answer's last byte."""
        super().__init__(db, max_attempts=max_attempts, batch_size=batch_size, lease=lease)
        self.token, self.timeout = token, timeout
        self.client = client or http.client()
        self.messages = SlackStore(db)

    def send(self, delivery: PendingDelivery, now: datetime) -> None:
        if "chat_edit" in delivery.row.payload:
            self._edit(delivery)
        else:
            self._post(delivery, now)

    def _post(self, delivery: PendingDelivery, now: datetime) -> None:
        row, channel = delivery.row, delivery.chat_to
        blocks = row.payload.get("chat_blocks")
        if SLACK_USER.fullmatch(channel):  # the rep's own Slack: their direct messages with the app
            channel = _field(self._call(OPEN_CONVERSATION, {"users": channel}), "channel", "id")
        posted = self._call(POST_MESSAGE, {"channel": channel, "text": row.payload["chat_text"], "unfurl_links": False,
                                           **({"blocks": blocks} if blocks else {})})
        if blocks:  # kept so the card can be edited, and a click on it traced to its transfer
            self.messages.record(PostedMessage(channel=_field(posted, "channel"), ts=_field(posted, "ts"),
                                               transfer_id=row.transfer_id, notice_key=row.key, card=_card(blocks)),
                                 now)

    def _edit(self, delivery: PendingDelivery) -> None:
        row = delivery.row
        offer = row.payload["chat_edit"]
        posted = self.messages.posted(row.transfer_id, offer)
        if not posted:
            if self.queue.status_of(row.transfer_id, offer) == "pending":
                raise DeliveryError("the offer is not in Slack yet: it is edited once it is")
            return  # never posted (given up, or Slack was not set up then): there is nothing to edit
        for message in posted:
            self._call(UPDATE_MESSAGE, {"channel": message.channel, "ts": message.ts, "text": row.payload["chat_text"],
                                        "blocks": [*message.card, *row.payload["chat_blocks"]]})

    def _call(self, method_url: str, body: dict[str, Any]) -> dict[str, Any]:
        method = method_url.rpartition("/")[2]
        try:
            response = http.exchange(self.client, "POST", method_url, timeout=self.timeout, limit=ANSWER_LIMIT,
                                     headers={"Authorization": f"Bearer {self.token}"}, json=body)
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"Slack did not answer {method} within {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"Slack unreachable: {exc}") from exc
        except http.AnswerTooLarge as exc:
            raise DeliveryError(f"Slack answered {method} with {exc}") from None
        if response.status_code != 200:
            raise DeliveryError(f"Slack answered {method} with HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise DeliveryError(f"Slack answered {method} with something that is not JSON") from None
        if not isinstance(answer, dict) or not answer.get("ok"):
            error = _error_code(answer.get("error")) if isinstance(answer, dict) else "not an object"
            raise DeliveryError(f"Slack refused {method}: {error}", retryable=error not in FINAL_ERRORS)
        return answer

    def close(self) -> None:
        self.client.close()


def _error_code(error: Any) -> str:
    return error if isinstance(error, str) and SLACK_ERROR.fullmatch(error) else "unrecognised error"


def _field(answer: dict[str, Any], *path: str) -> str:
    value: Any = answer
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    if not isinstance(value, str) or not value:
        raise DeliveryError(f"Slack's answer has no {'.'.join(path)}")
    return value
