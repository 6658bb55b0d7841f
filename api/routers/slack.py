"""Slack's interactivity requests: a rep's clicks on the actions of an alert card (integrations.notify.slack). Slack
signs each request instead of sending an API key, and wants its answer within 3 s: the action runs after it, as the
console's would, and what does not go through is told to the rep in Slack."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import APIRouter, BackgroundTasks, Request, Response

from api.deps import Services, Transfers
from api.errors import ApiError, error_responses, invalid
from api.threads import blocking
from api.transfer_client import TransferClient
from integrations.notify.slack_interactivity import (
    BlockActions,
    ClickRefused,
    NotAnInteraction,
    RequestRefused,
    SlackInteractions,
)

log = logging.getLogger("warm_transfer.api")

router = APIRouter(prefix="/v1/slack", tags=["slack"])

_FORM = {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
    "type": "object", "required": ["payload"],
    "properties": {"payload": {"type": "string", "description": "the interaction, as JSON"}}}}}}}


@router.post("/interactivity", response_class=Response, openapi_extra=_FORM,
             responses={200: {"description": "Taken: the action follows; a refusal is told to the rep in Slack"},
                        **error_responses(401, 404, 413, 422)},
             summary="Slack's interactivity requests: a rep's Accept, Defer to colleague or Schedule callback on an "
                     "alert card (signed by Slack, no API key)")
async def interactivity(request: Request, services: Services, transfers: Transfers,
                        background: BackgroundTasks) -> Response:
    slack = services.integrations.slack
    if slack is None:
        raise ApiError(404, "not_found", "Slack interactivity is not set up here (WT_SLACK_SIGNING_SECRET).")
    body = await request.body()
    try:
        await blocking(slack.verify, body, request.headers.get("X-Slack-Request-Timestamp"),
                       request.headers.get("X-Slack-Signature"), datetime.now(UTC))
        click = slack.read(body)
    except RequestRefused as refusal:
        raise ApiError(401, "unauthorized", f"Not a request of Slack's: {refusal}.") from None
    except NotAnInteraction as err:
        raise invalid("payload", str(err)) from None
    if click is not None:
        background.add_task(_act, slack, transfers, click)
    return Response(status_code=200)


async def _act(slack: SlackInteractions, transfers: TransferClient, click: BlockActions) -> None:
    """The rep action the click stands for, through the console's own call and so with its refusals."""
    try:
        rep_click = await blocking(slack.rep_click, click)
        if rep_click is not None:
            await transfers.rep_action(rep_click.transfer_id, rep_click.action)
        return
    except ClickRefused as refusal:
        text = str(refusal)
    except ApiError as err:
        # Over the API a rep learns nothing of a transfer not theirs (404); in Slack they can see its card.
        reason = "this transfer is not yours to act on" if err.code == "not_found" else err.message
        text = f"That did not go through: {reason}"
    except Exception:  # after the answer nobody else hears of it: the rep is told, the log keeps the trace
        log.exception("a click in Slack could not be acted on")
        text = "That did not go through: try again, or answer in the console."
    await blocking(slack.reply, click.response_url, text)
