"""The evaluator that runs in this process: the policy's explainable rules."""

from __future__ import annotations

import asyncio

from domain.triggers import EvaluateRequest, Evaluation, Policy, evaluate
from integrations.triggers.base import TriggerEvaluator


class LocalEvaluator(TriggerEvaluator):
    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    async def evaluate(self, request: EvaluateRequest) -> Evaluation:
        # CPU-bound: off the event loop, so streams and other requests keep flowing.
        return await asyncio.to_thread(evaluate, request, self.policy)
