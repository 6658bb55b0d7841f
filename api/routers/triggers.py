"""Should this conversation transfer now? The bot asks; the answer names triggers, evidence and timing."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends
from pydantic import Field, model_validator

from api.auth import KeyFirstRoute, require
from api.deps import Services, TriggerEvaluatorService
from api.errors import error_responses
from api.threads import blocking
from domain.context import Prospect
from domain.triggers import EvaluateRequest, Evaluation
from store.keys import Principal

router = APIRouter(prefix="/v1/triggers", tags=["triggers"], route_class=KeyFirstRoute,
                   responses=error_responses(401, 403, 413, 422))

EXPECTED_IGNORED = "`expected` is not read: this answer is the evaluator's own"


class EvaluateBody(EvaluateRequest):
    """The request, also in the shape of the shared example files, which bots copy: the prospect at the top level,
    and what the example expects."""

    prospect: Prospect | None = Field(None, description="the same as `known.prospect`, as the example files put it; "
                                      "give it in one place only")
    expected: dict[str, object] | None = Field(None, description="what an example file expects the answer to be; "
                                               "not read (the answer says so in `warnings`)")

    @model_validator(mode="after")
    def _prospect_once(self) -> EvaluateBody:
        if self.prospect is not None and self.known.prospect is not None:
            raise ValueError("prospect is given twice: keep `known.prospect` and leave out the top-level `prospect`")
        return self

    def request(self) -> EvaluateRequest:
        known = self.known.model_copy(update={"prospect": self.prospect}) if self.prospect else self.known
        # Validated already, as a subclass: each field of the request passes over as it is.
        fields = {name: getattr(self, name) for name in EvaluateRequest.model_fields}
        return EvaluateRequest.model_construct(**{**fields, "known": known})


@router.post("/evaluate", response_model=Evaluation,
             summary="Evaluate a conversation: transfer or not, category, triggers with evidence, timing")
async def evaluate_conversation(body: EvaluateBody, services: Services, evaluator: TriggerEvaluatorService,
                                _: Principal = Depends(require("bot", "admin"))) -> Evaluation:
    request = body.request()
    if request.known.reps_available is None:  # the bot rarely knows; the directory does
        anyone = await blocking(services.reps.anyone_can_take_now, datetime.now(UTC))
        request = request.model_copy(update={"known": request.known.model_copy(update={"reps_available": anyone})})
    evaluation = await evaluator.evaluate(request)
    if body.expected is not None:
        return evaluation.model_copy(update={"warnings": [*evaluation.warnings, EXPECTED_IGNORED]})
    return evaluation
