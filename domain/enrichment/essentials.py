"""The seed's "Transfer context must include" list: which essentials are still unknown."""

from __future__ import annotations

from collections.abc import Callable

from domain.context import ContextPackage, usable_email

# In the seed's order, one label the bot can ask about per item: what is left unknown comes back as `collect`.
# "Account history (if any)" is optional, "budget/timeline indicators" is covered by budget range and decision
# timeline; what is the rep's reading of the prospect, never a question to them (the recommended approach, the
# qualification score, tone, frustration and buying intent), is derived and not asked for.
ESSENTIALS: tuple[tuple[str, Callable[[ContextPackage], object]], ...] = (
    ("name", lambda c: c.prospect.name),
    ("company", lambda c: c.prospect.company),
    ("contact info", lambda c: _contact(c)),
    ("how they found us", lambda c: c.summary.entry_point),
    ("what they asked about", lambda c: c.summary.initial_question),
    ("key needs", lambda c: c.summary.key_needs),
    ("pain points", lambda c: c.summary.pain_points),
    ("company size", lambda c: c.qualification.company_size),
    ("use case", lambda c: c.qualification.use_case),
    ("decision timeline", lambda c: c.qualification.timeline),
    ("budget range", lambda c: c.qualification.budget),
    ("decision maker", lambda c: c.qualification.decision_maker),
    ("specific concerns", lambda c: c.summary.objections_raised),
)


def _contact(context: ContextPackage) -> list[str | None]:
    """An e-mail address that cannot be written to is asked again, even beside a phone number: confirmations go by
    e-mail."""
    prospect = context.prospect
    if prospect.email and not usable_email(prospect.email):
        return []
    return [prospect.email, prospect.phone]


def missing(context: ContextPackage) -> list[str]:
    return [label for label, value in ESSENTIALS if not is_known(value(context))]


def is_known(value: object) -> bool:
    """False for None, blank text and lists of those; a False (e.g. not the decision maker) is known."""
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list):
        return any(is_known(item) for item in value)
    return value is not None
