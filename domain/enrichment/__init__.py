"""Context enrichment: the package completed before the rep sees it, from the CRM account, the transcript and
rules, with every added value's source and evidence, and the essentials still to collect.

Pure and deterministic. enrich() runs the trigger evaluator once on the transcript: about 1 ms for a chat, under
0.1 s for a 200,000-character transcript. Without a `policy` argument the bundled policy is loaded on first use
(about 0.8 s, once per process); a service should pass the policy it already loaded.
"""

from domain.enrichment.enrich import enrich
from domain.enrichment.essentials import ESSENTIALS, missing
from domain.enrichment.models import Derived, Enrichment, ScorePart
from domain.enrichment.transcript import parse_transcript

__all__ = [
    "ESSENTIALS",
    "Derived",
    "Enrichment",
    "ScorePart",
    "enrich",
    "missing",
    "parse_transcript",
]
