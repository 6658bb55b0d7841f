"""A typed client for bots of the Warm Transfer API: `WarmTransfer` (blocking) and `AsyncWarmTransfer` (asyncio).

    from warm_transfer_client import WarmTransfer

    with WarmTransfer("wt_bot_demo", "http://127.0.0.1:8000") as api:
        evaluation = api.evaluate({"messages": [{"role": "prospect", "text": "Can I see a demo this week?"}]})
        view = api.start({"context": {"prospect": {"name": "John Smith"}}}, evaluation=evaluation)
        print(view.bot_lines[-1].text)
"""

from warm_transfer_client.client import AsyncWarmTransfer, WarmTransfer
from warm_transfer_client.errors import (
    ApiError,
    Conflict,
    Forbidden,
    InvalidRequest,
    InvalidSignature,
    NotFound,
    ServerError,
    TooLarge,
    Unauthorized,
    Unavailable,
    UnexpectedAnswer,
    Unreachable,
    WarmTransferError,
)
from warm_transfer_client.models import (
    BotInfo,
    BotLine,
    ContextPackage,
    EvaluateRequest,
    Evaluation,
    Event,
    KnownFacts,
    Message,
    ProspectFeedback,
    RepFeedback,
    Routing,
    StartTransfer,
    StatusChange,
    TransferView,
    TriggerInfo,
)
from warm_transfer_client.webhooks import verify_signature, verify_webhook

__version__ = "0.1.0"
__all__ = [
    "ApiError", "AsyncWarmTransfer", "BotInfo", "BotLine", "Conflict", "ContextPackage", "EvaluateRequest",
    "Evaluation", "Event", "Forbidden", "InvalidRequest", "InvalidSignature", "KnownFacts", "Message", "NotFound",
    "ProspectFeedback", "RepFeedback", "Routing", "ServerError", "StartTransfer", "StatusChange", "TooLarge",
    "TransferView", "TriggerInfo", "Unauthorized", "Unavailable", "UnexpectedAnswer", "Unreachable", "WarmTransfer",
    "WarmTransferError", "verify_signature", "verify_webhook",
]
