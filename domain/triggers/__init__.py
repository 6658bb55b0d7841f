"""Conversation trigger evaluator: should the sales bot hand this prospect to a human rep, and when.

Pure domain code. The policy (phrases, regexes, thresholds, score bands, category order) lives in
policy.toml next to this file; it and the language model are loaded once, never at evaluation time.
"""

from domain.triggers.evaluator import evaluate
from domain.triggers.models import (
    EvaluateRequest,
    Evaluation,
    Evidence,
    KnownFacts,
    Message,
    Timing,
    TriggerHit,
    TriggerName,
)
from domain.triggers.policy import Policy, PolicyError, load_policy

__all__ = [
    "EvaluateRequest",
    "Evaluation",
    "Evidence",
    "KnownFacts",
    "Message",
    "Policy",
    "PolicyError",
    "Timing",
    "TriggerHit",
    "TriggerName",
    "evaluate",
    "load_policy",
]
