"""Building requests in tests: a conversation is a list of (role, text) turns."""

from __future__ import annotations

from typing import Any

from domain.triggers import EvaluateRequest, Evaluation, evaluate


def conversation(*turns: tuple[str, str], **request: Any) -> EvaluateRequest:
    return EvaluateRequest(messages=[{"role": role, "text": text} for role, text in turns], **request)


def said(*texts: str, **request: Any) -> Evaluation:
    """Evaluate messages all written by the prospect."""
    return evaluate(conversation(*(("prospect", text) for text in texts), **request))


def names(evaluation: Evaluation) -> set[str]:
    return {hit.name for hit in evaluation.triggers}
