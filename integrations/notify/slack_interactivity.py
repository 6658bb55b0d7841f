"""Clicks on a Slack alert's actions, as Slack's interactivity requests bring them: checked, read, and turned into the
rep action the console would send.

Slack signs each request (`X-Slack-Signature`, HMAC-SHA256 with the app's signing secret over the timestamp and the
raw body; checked by slack-sdk's SignatureVerifier). One that is unsigned, forged, older than five minutes, or seen
before (its signature is remembered for ten: a request is fresh for five minutes either side of now) is refused.
The body is form-encoded, `payload=<JSON>`; of its kinds only `block_actions` (a button, a pick or a date-time
picked on a card) means anything here. What did not go through is told to the rep who clicked, and only to them,
through the request's `response_url`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import parse_qs

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from slack_sdk.signature import SignatureVerifier

from domain.requests import RepAction
from domain.scripts import mrkdwn_escape
from integrations import http
from integrations.notify.slack import ACCEPT, ANYONE, CALLBACK, DEFER
from store.db import Database
from store.reps import RepStore
from store.slack import SlackStore

log = logging.getLogger(__name__)

FRESH = timedelta(minutes=5)
SLACK_HOOKS = "https://hooks.slack.com/"  # where every response_url of Slack's leads
REPLY_ANSWER_LIMIT = 64 * 2**10  # bytes of Slack's answer to a reply read: its status is what counts


class RequestRefused(Exception):
    """Not a fresh request of Slack's: unsigned, forged, stale or replayed."""


class NotAnInteraction(Exception):
    """A request Slack signed whose body is not an interaction payload."""


class ClickRefused(Exception):
    """A click that cannot become a rep action; its message is for the rep who clicked."""


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _User(_Payload):
    id: str = Field(max_length=40)


class _Option(_Payload):
    value: str = Field(max_length=150)


class _Action(_Payload):
    action_id: str = Field(max_length=255)
    selected_option: _Option | None = None
    selected_date_time: int | None = None


class _Container(_Payload):
    channel_id: str = Field(max_length=32)
    message_ts: str = Field(max_length=32)


class BlockActions(_Payload):
    """What this app reads of a `block_actions` payload."""

    type: Literal["block_actions"]
    user: _User
    actions: list[_Action] = Field(min_length=1)
    container: _Container
    response_url: str = Field(max_length=2000)


@dataclass(frozen=True)
class RepClick:
    transfer_id: str
    action: RepAction


class SlackInteractions:
    def __init__(self, db: Database, signing_secret: str, *, reply_to: str = SLACK_HOOKS,
                 client: httpx.Client | None = None, reply_timeout: float = 5.0):
        """`reply_timeout`: seconds a reply may take in all, from connecting to the answer's last byte."""
        self.verifier = SignatureVerifier(signing_secret)
        self.store = SlackStore(db)
        self.reps = RepStore(db)
        self.reply_to = reply_to  # replies go only where Slack's response_urls lead
        self.client, self.reply_timeout = client or http.client(follow_redirects=False), reply_timeout

    def verify(self, body: bytes, timestamp: str | None, signature: str | None, now: datetime) -> None:
        """RequestRefused unless the request is Slack's, fresh, and not seen before."""
        if not timestamp or not signature:
            raise RequestRefused("not signed by Slack: X-Slack-Request-Timestamp and X-Slack-Signature are needed")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            raise RequestRefused("X-Slack-Request-Timestamp is not a time")
        # In whole seconds, as the header is: any run of digits compares, however far from now (a date would not).
        if abs(now.timestamp() - int(timestamp)) > FRESH.total_seconds():
            raise RequestRefused("stale: signed more than 5 minutes from now")
        try:
            valid = self.verifier.is_valid(body, timestamp, signature)
        except UnicodeDecodeError:  # the verifier reads the body as UTF-8
            valid = False
        if not valid:
            raise RequestRefused("the signature does not match")
        if not self.store.first_sight(signature[:100], now, 2 * FRESH):
            raise RequestRefused("replayed: this request was already taken")

    @staticmethod
    def read(body: bytes) -> BlockActions | None:
        """The block actions a verified request carries; None for another kind of interaction."""
        try:
            fields = parse_qs(body.decode(), strict_parsing=True)
            payload = json.loads(fields["payload"][0])
        except (UnicodeDecodeError, ValueError, KeyError, RecursionError) as exc:  # RecursionError: nested too deep
            raise NotAnInteraction("the body must be form-encoded payload=<JSON>") from exc
        if not isinstance(payload, dict):
            raise NotAnInteraction("the payload must be a JSON object")
        if payload.get("type") != "block_actions":
            return None
        try:
            return BlockActions.model_validate(payload)
        except ValidationError as exc:
            raise NotAnInteraction(f"not a block_actions payload: {exc.error_count()} problem(s)") from None

    def rep_click(self, click: BlockActions) -> RepClick | None:
        """The rep action a click on one of our cards stands for, by the rep whose Slack account clicked; None for a
        click that asks for nothing (an action that is not ours). ClickRefused says why it cannot be."""
        rep = self.reps.by_slack_user(click.user.id)
        if rep is None:
            raise ClickRefused("Your Slack account is not linked to a rep: ask your admin to add your Slack member id "
                               "(slack_user_id) to your rep profile.")
        card = self.store.at(click.container.channel_id, click.container.message_ts)
        if card is None:
            raise ClickRefused("This message is not a transfer offer that Warm Transfer knows.")
        try:
            action = _action(click.actions[0], rep.profile.id)
        except ValidationError:
            raise ClickRefused("That choice is not one the offer takes: pick again from the card.") from None
        return None if action is None else RepClick(card.transfer_id, action)

    def reply(self, response_url: str, text: str) -> None:
        """Tell the rep who clicked, and only them (an ephemeral message). Best effort: a reply lost is logged."""
        if not response_url.startswith(self.reply_to):
            log.warning("Slack reply not sent: the response_url does not lead to %s", self.reply_to)
            return
        reply = {"response_type": "ephemeral", "replace_original": False, "text": mrkdwn_escape(text)}
        try:
            answer = http.exchange(self.client, "POST", response_url, timeout=self.reply_timeout,
                                   limit=REPLY_ANSWER_LIMIT, json=reply)
        except (httpx.HTTPError, http.AnswerTooLarge) as exc:
            log.warning("Slack reply not delivered: %s", type(exc).__name__)
            return
        if not answer.is_success:
            log.warning("Slack reply not delivered: HTTP %d", answer.status_code)


def _action(clicked: _Action, rep_id: str) -> RepAction | None:
    """ValidationError for a value the action does not take (not a rep id, not a time)."""
    if clicked.action_id == ACCEPT:
        return RepAction(action="accept", rep_id=rep_id)
    if clicked.action_id == DEFER:
        colleague = clicked.selected_option.value if clicked.selected_option else ANYONE
        return RepAction(action="defer", rep_id=rep_id, defer_to=None if colleague == ANYONE else colleague)
    if clicked.action_id == CALLBACK:
        return RepAction(action="schedule_callback", rep_id=rep_id, callback_at=_moment(clicked.selected_date_time))
    return None


def _moment(unix_seconds: int | None) -> datetime | None:
    try:
        return None if unix_seconds is None else datetime.fromtimestamp(unix_seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None  # refused as a missing time
