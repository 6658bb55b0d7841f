"""Trigger evaluator interface: the bot's question "transfer now?" answered with triggers, evidence and timing."""

from __future__ import annotations

from abc import ABC, abstractmethod

from domain.triggers import EvaluateRequest, Evaluation


class TriggerEvaluator(ABC):
    @abstractmethod
    async def evaluate(self, request: EvaluateRequest) -> Evaluation:
        """The answer for this conversation. Never raises for any text the request model admits."""

    async def aclose(self) -> None:  # noqa: B027 (most evaluators hold nothing to release)
        """Release what the evaluator holds (connections); the app calls it once, at shutdown."""
