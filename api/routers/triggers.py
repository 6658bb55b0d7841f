"""Should this conversation transfer now? The bot asks; the answer names triggers, evidence and timing."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends

from api.auth import require
from api.deps import Services, TriggerPolicy, blocking
from domain.routing import can_take_now
from domain.triggers import EvaluateRequest, Evaluation, evaluate
from store.keys import Principal
from store.reps import RepStore

router = APIRouter(prefix="/v1/triggers", tags=["triggers"])


@router.post("/evaluate", response_model=Evaluation,
             summary="Evaluate a conversation: transfer or not, category, triggers with evidence, timing")
async def evaluate_conversation(body: EvaluateRequest, services: Services, policy: TriggerPolicy,
                                _: Principal = Depends(require("bot", "admin"))) -> Evaluation:
    if body.known.reps_available is None:  # the bot rarely knows; the directory does
        anyone = await blocking(_anyone_can_take_now, services.reps)
        body = body.model_copy(update={"known": body.known.model_copy(update={"reps_available": anyone})})
    return await blocking(evaluate, body, policy)


def _anyone_can_take_now(reps: RepStore) -> bool:
    now = datetime.now(UTC)
    return any(can_take_now(state, now) for state in reps.list())
