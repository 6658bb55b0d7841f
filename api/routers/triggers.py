"""Should this conversation transfer now? The bot asks; the answer names triggers, evidence and timing."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends

from api.auth import KeyFirstRoute, require
from api.deps import Services, TriggerEvaluatorService
from api.errors import error_responses
from api.threads import blocking
from domain.triggers import EvaluateRequest, Evaluation
from store.keys import Principal

router = APIRouter(prefix="/v1/triggers", tags=["triggers"], route_class=KeyFirstRoute,
                   responses=error_responses(401, 403, 413, 422))


@router.post("/evaluate", response_model=Evaluation,
             summary="Evaluate a conversation: transfer or not, category, triggers with evidence, timing")
async def evaluate_conversation(body: EvaluateRequest, services: Services, evaluator: TriggerEvaluatorService,
                                _: Principal = Depends(require("bot", "admin"))) -> Evaluation:
    if body.known.reps_available is None:  # the bot rarely knows; the directory does
        anyone = await blocking(services.reps.anyone_can_take_now, datetime.now(UTC))
        body = body.model_copy(update={"known": body.known.model_copy(update={"reps_available": anyone})})
    return await evaluator.evaluate(body)

