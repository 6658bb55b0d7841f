"""When to transfer, per the seed's "Transfer Timing": not mid-thought, not before the need is understood."""

from __future__ import annotations

from domain.triggers.facts import Facts
from domain.triggers.models import Advice, Category, Timing, TriggerName
from domain.triggers.policy import Policy
from domain.triggers.schema import FactName
from domain.triggers.transcript import Transcript

_REASON_BY_CATEGORY: dict[Category, str] = {
    "rescue": "the conversation is at risk: hand over before it degrades further",
    "necessary": "the bot cannot take this further itself",
    "positive": "an opportunity with the need understood",
}
UNFINISHED = "the prospect's last message reads as unfinished: let them finish"


def advise(
    fired: set[TriggerName], category: Category | None, facts: Facts, transcript: Transcript, policy: Policy
) -> Timing:
    """The rules' advice: a message that trails off waits; a need not yet understood is collected first."""
    if category is None:
        return Timing(advice=None)
    trailing = _trails_off(transcript, policy)
    if trailing:
        return Timing(
            advice="wait", reasons=[f"the prospect's last message trails off at {trailing!r}: let them finish"]
        )
    timing = policy.settings.timing
    need_understood = bool(facts.known & set(timing.need_any) or fired & set(timing.need_implied_by))
    if category in timing.collect_first_categories and not need_understood:
        return explain("collect_first", fired, category, facts, policy)
    return explain("now", fired, category, facts, policy)


def explain(advice: Advice, fired: set[TriggerName], category: Category, facts: Facts, policy: Policy) -> Timing:
    """The reasons for an advice reached without a rule's words to quote (the meaning model's)."""
    if advice == "wait":
        return Timing(advice="wait", reasons=[UNFINISHED])
    if advice == "collect_first":
        missing = [_label(fact) for fact in policy.settings.timing.collect if fact not in facts.known]
        asks = ", ".join(missing) or "what they need it for"
        return Timing(
            advice="collect_first",
            reasons=[f"the need is not understood yet: ask about {asks} before handing over"],
            missing=missing,
        )
    reasons = ["the prospect asked for a human"] if "escalation_requested" in fired else []
    return Timing(advice="now", reasons=[*reasons, _REASON_BY_CATEGORY[category]])


def _trails_off(transcript: Transcript, policy: Policy) -> str | None:
    """The mark or connector word the prospect's last message ends on, if it stops mid-thought."""
    last = transcript.last("prospect")
    text = last.normalised.rstrip() if last else ""
    mark = next((mark for mark in policy.settings.timing.trailing_marks if text.endswith(mark)), None)
    if mark or not text:
        return mark
    return next((word for rules in policy.languages.values() if (word := rules.trailing_word(text))), None)


def _label(fact: FactName) -> str:
    return fact.replace("_", " ")
