"""When to transfer, per the seed's "Transfer Timing": not mid-thought, not before the need is understood."""

from __future__ import annotations

from domain.triggers.facts import Facts
from domain.triggers.models import Category, Timing, TriggerName
from domain.triggers.policy import Policy
from domain.triggers.schema import FactName
from domain.triggers.transcript import Transcript

_REASON_BY_CATEGORY: dict[Category, str] = {
    "rescue": "the conversation is at risk: hand over before it degrades further",
    "necessary": "the bot cannot take this further itself",
    "positive": "an opportunity with the need understood",
}


def advise(
    fired: set[TriggerName], category: Category | None, facts: Facts, transcript: Transcript, policy: Policy
) -> Timing:
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
        missing = [_label(fact) for fact in timing.collect if fact not in facts.known]
        return Timing(
            advice="collect_first",
            reasons=[f"the need is not understood yet: ask about {', '.join(missing)} before handing over"],
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
