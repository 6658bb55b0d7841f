"""Picks the trigger evaluator: the rules in this process, or a language model in front of them."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from domain.triggers import Policy
from domain.triggers.meaning import Meaning
from integrations.triggers.base import TriggerEvaluator
from integrations.triggers.chat import ChatEndpoint, ChatModelEvaluator
from integrations.triggers.local import LocalEvaluator


def build_evaluator(policy: Policy, meaning: Meaning | None, model: ChatEndpoint | None = None,
                    registry: CollectorRegistry | None = None) -> TriggerEvaluator:
    """The local evaluator (the rules, weighed by `meaning` if given); with a `model` endpoint, the model, falling
    back on the local evaluator. The model's outcomes are counted in `registry`."""
    local = LocalEvaluator(policy, meaning)
    return ChatModelEvaluator(model, policy, fallback=local, registry=registry) if model else local
