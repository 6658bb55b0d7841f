"""Should this conversation transfer now? The bot asks; the answer names triggers, evidence and timing."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from api.auth import require
from domain.triggers import EvaluateRequest, Evaluation, evaluate
from store.keys import Principal

router = APIRouter(prefix="/v1/triggers", tags=["triggers"])


@router.post("/evaluate", response_model=Evaluation,
             summary="Evaluate a conversation: transfer or not, category, triggers with evidence, timing")
async def evaluate_conversation(body: EvaluateRequest, request: Request,
                                _: Principal = Depends(require("bot", "admin"))) -> Evaluation:
    return await request.app.state.run_sync(evaluate, body, request.app.state.trigger_policy)
