"""The evaluator that runs in this process: the policy's explainable rules, weighed by the meaning model we ship
(a multilingual sentence encoder and models trained on labelled conversations) unless told to use rules alone."""

from __future__ import annotations

import asyncio
import functools

from domain.triggers import EvaluateRequest, Evaluation, Policy, evaluate
from domain.triggers.meaning import Meaning, MeaningModel
from integrations.triggers.base import TriggerEvaluator
from integrations.triggers.encoder import UniversalSentenceEncoder


@functools.cache
def shipped_meaning() -> Meaning:
    """Once per process (about a second, ~90 MB): the encoder's weights and the trained model."""
    return Meaning(MeaningModel.load(), UniversalSentenceEncoder())


class LocalEvaluator(TriggerEvaluator):
    def __init__(self, policy: Policy, meaning: Meaning | None) -> None:
        self.policy = policy
        self.meaning = meaning

    async def evaluate(self, request: EvaluateRequest) -> Evaluation:
        # CPU-bound: off the event loop, so streams and other requests keep flowing.
        return await asyncio.to_thread(evaluate, request, self.policy, self.meaning)
