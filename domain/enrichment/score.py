"""A qualification score when the bot gave none: explicit parts, each with its evidence, at most 100 in all."""

from __future__ import annotations

from domain.context import ContextPackage, Qualification
from domain.enrichment.essentials import is_known
from domain.enrichment.models import ScorePart
from domain.triggers import KnownFacts, Policy
from domain.triggers.facts import gather_facts
from domain.triggers.transcript import Transcript

# At most 25 + 20 + 15 + 10 + 20 + 10 = 100: the cap holds by construction.
SIZE_POINTS = {"high_value": 25, "enterprise": 15, "smaller": 5}
DECISION_MAKER_POINTS = 20
TIMELINE_POINTS = 15
BUDGET_POINTS = 10
INTENT_POINTS = {"high": 20, "medium": 10}
ACCOUNT_POINTS = 10
# One fact alone is an anecdote, not a score.
MIN_PARTS = 2


def score_parts(context: ContextPackage, policy: Policy) -> list[ScorePart]:
    """The parts of the score, or [] when there are too few to go on."""
    qualification, intent = context.qualification, context.sentiment.buying_intent
    account_id, size = context.prospect.account_id, qualification.company_size
    count = _head_count(qualification, policy)
    # (factor, points or nothing when the fact is unknown, evidence)
    candidates = [
        ("company size", count and _size_points(count, policy), f"company size {size!r}: {count} people"),
        ("decision maker", qualification.decision_maker and DECISION_MAKER_POINTS, "decision maker: yes"),
        ("timeline", is_known(qualification.timeline) and TIMELINE_POINTS, f"timeline {qualification.timeline!r}"),
        ("budget", is_known(qualification.budget) and BUDGET_POINTS, f"budget {qualification.budget!r}"),
        ("buying intent", INTENT_POINTS.get(intent or ""), f"buying intent {intent!r}"),
        ("known account", is_known(account_id) and ACCOUNT_POINTS, f"account {account_id!r}"),
    ]
    parts = [ScorePart(factor=factor, points=points, evidence=said) for factor, points, said in candidates if points]
    return parts if len(parts) >= MIN_PARTS else []


def _head_count(qualification: Qualification, policy: Policy) -> int | None:
    """The number in company_size as the evaluator reads it: "500+ employees", "about 200 people", "300人"."""
    if not is_known(qualification.company_size):
        return None
    size = gather_facts(Transcript([], 0), KnownFacts(qualification=qualification), policy).company_size
    return size.count if size else None


def _size_points(count: int, policy: Policy) -> int:
    thresholds = policy.settings.thresholds
    if count >= thresholds.high_value_company_size:
        return SIZE_POINTS["high_value"]
    return SIZE_POINTS["enterprise" if count >= thresholds.enterprise_company_size else "smaller"]

