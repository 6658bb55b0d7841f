"""What enrichment reads from the CRM and what it hands back: the completed package and how it was completed."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from domain.accounts import AccountActivity
from domain.context import ContextPackage


class Derived(BaseModel):
    field: str
    """Dotted path in the package, e.g. "sentiment.overall"."""
    value: Any
    source: Literal["crm", "transcript", "rules"]
    explanation: str
    """The evidence: the transcript's words, the CRM account, the score's parts."""


class ScorePart(BaseModel):
    factor: str
    points: int
    evidence: str


class Enrichment(BaseModel):
    context: ContextPackage
    """The completed package: what the bot gave, kept as it is, with the gaps filled."""
    derived: list[Derived]
    """One entry per filled field."""
    score_parts: list[ScorePart]
    """Present when the score was computed here; they sum to qualification.score."""
    responds_to: list[str]
    avoid: list[str]
    next_step: str
    missing: list[str]
    """The seed's must-include essentials still unknown, as short labels, in the seed's order."""
    account_history: list[AccountActivity]
