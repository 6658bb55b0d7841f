"""enrich(): complete the context package before the rep sees it, saying where every added value came from."""

from __future__ import annotations

from pydantic import ValidationError

from domain.accounts import AccountProfile
from domain.context import ContextPackage
from domain.enrichment.essentials import is_known, missing
from domain.enrichment.models import Derived, Enrichment, ScorePart
from domain.enrichment.score import score_parts
from domain.enrichment.transcript import Reading, Said, Sign, parse_transcript, quoted, read
from domain.scripts import checklist, language_of, talking_points, things_to_avoid
from domain.scripts.render import Lang
from domain.triggers import Policy
from domain.triggers.policy import default_policy

HIGH_FRUSTRATION_SIGNS = 3
APPROACH_LABELS: dict[Lang, tuple[str, str, str]] = {
    "en": ("Build on: ", "Avoid: ", "; "),
    "zh": ("切入点:", "避免:", ";"),
}
APPROACH_SEPARATOR = " · "
APPROACH_LIMIT = 2000  # ContextPackage.recommended_approach's limit


def enrich(
    context: ContextPackage,
    account: AccountProfile | None = None,
    policy: Policy | None = None,
    locale: str | None = None,
) -> Enrichment:
    """Fill the package's gaps from the CRM account, the transcript and the rules; never overwrite the bot.
    `locale` is the language of the approach lines (default: the prospect's, as the transcript shows)."""
    policy = policy or default_policy()
    reading = read(parse_transcript(context.conversation_transcript), policy)
    context, derived = _fill(context, [], [*_from_crm(account), *_from_transcript(reading)])
    parts = score_parts(context, policy) if context.qualification.score is None else []
    if parts:
        context, derived = _fill(context, derived, [_score(parts)])
    lang = language_of(locale or (reading.language if reading else None))
    responds_to, avoid = talking_points(context, lang), things_to_avoid(context, lang)
    next_step = checklist(context, lang)[-1]  # the checklist ends with the next step
    context, derived = _fill(context, derived, [_approach(responds_to, avoid, next_step, lang)])
    return Enrichment(
        context=context,
        derived=derived,
        score_parts=parts,
        responds_to=responds_to,
        avoid=avoid,
        next_step=next_step,
        missing=missing(context),
        account_history=account.history if account else [],
    )


def _fill(
    context: ContextPackage, derived: list[Derived], candidates: list[Derived]
) -> tuple[ContextPackage, list[Derived]]:
    """The candidates for empty fields only. A value the package cannot hold (a CRM id over 100 characters,
    a 600-character "head count") leaves the gap open rather than fail the transfer."""
    for candidate in candidates:
        data = context.model_dump()
        section, _, name = candidate.field.rpartition(".")
        target = data[section] if section else data
        if is_known(target[name]):  # what the bot gave stays; an empty list or blank text is nothing given
            continue
        target[name] = candidate.value
        try:
            context = ContextPackage.model_validate(data)
        except ValidationError:
            continue
        derived = [*derived, candidate]
    return context, derived


def _from_crm(account: AccountProfile | None) -> list[Derived]:
    if account is None:
        return []
    found = [Derived(field="prospect.account_id", value=account.account_id, source="crm",
                     explanation=f"CRM account {account.account_id} matches this prospect")]
    if is_known(account.company):
        found.append(Derived(field="prospect.company", value=account.company, source="crm",
                             explanation=f"CRM account {account.account_id}: company {account.company!r}"))
    return found


def _from_transcript(reading: Reading | None) -> list[Derived]:
    if reading is None:
        return []
    negative, buying = reading.negative, reading.buying
    read_in = f"in the transcript's {reading.prospect_messages} prospect message(s)"
    overall = "mixed" if negative and buying else "negative" if negative else "positive" if buying else "neutral"
    found = [
        _heard("sentiment.overall", overall, quoted(negative + buying) or f"no frustration or buying signal {read_in}"),
        _heard(
            "sentiment.frustration_level",
            _frustration_level(negative),
            quoted(negative) or f"no frustration, complaint or misunderstanding {read_in}",
        ),
    ]
    # No buying signal is not low intent: a prospect still asking questions may be keen, so intent stays unknown.
    if buying:
        found.append(_heard("sentiment.buying_intent", "high" if len(buying) > 1 else "medium", quoted(buying)))
    if reading.head_count:
        wrote = reading.head_count
        found.append(_heard("qualification.company_size", wrote, f'the prospect wrote "{wrote}"'))
    # What they said of their need and qualification, in their words, so nobody asks them again.
    for field, said in (("summary.initial_question", reading.first_question), ("qualification.use_case",
                        reading.use_case), ("qualification.budget", reading.budget),
                        ("qualification.timeline", reading.timeline)):
        if said is not None:
            found.append(_heard(field, said.sentence, _wrote(said)))
    if reading.decision_maker is not None:
        found.append(_heard("qualification.decision_maker", True, _wrote(reading.decision_maker)))
    for field, said_all in (("summary.key_needs", reading.needs), ("summary.pain_points", reading.pain_points)):
        if said_all:
            found.append(_heard(field, [said.sentence for said in said_all], "; ".join(map(_wrote, said_all))))
    return found


def _wrote(said: Said) -> str:
    return f'the prospect wrote "{said.sentence}"' if said.words == said.sentence else \
        f'the prospect wrote "{said.words}": "{said.sentence}"'


def _frustration_level(signs: list[Sign]) -> str:
    """Being misunderstood is low; saying so (frustration, complaint) is medium; three signs or more are high."""
    if len(signs) >= HIGH_FRUSTRATION_SIGNS:
        return "high"
    if any(sign.trigger != "repeated_misunderstanding" for sign in signs):
        return "medium"
    return "low" if signs else "none"


def _heard(field: str, value: str | bool | list[str], evidence: str) -> Derived:
    return Derived(field=field, value=value, source="transcript", explanation=evidence)


def _score(parts: list[ScorePart]) -> Derived:
    explanation = "; ".join(f"{part.factor} +{part.points} ({part.evidence})" for part in parts)
    return Derived(field="qualification.score", value=sum(part.points for part in parts), source="rules",
                   explanation=explanation)


def _approach(responds_to: list[str], avoid: list[str], next_step: str, lang: Lang) -> Derived:
    build_on, steer_clear, joiner = APPROACH_LABELS[lang]
    parts = [build_on + joiner.join(responds_to[:2])] if responds_to else []
    # Never making them start over comes first and goes without saying; the last thing to avoid is the most specific.
    parts += [steer_clear + avoid[-1], next_step]
    line = APPROACH_SEPARATOR.join(parts)
    if len(line) > APPROACH_LIMIT:
        line = line[: APPROACH_LIMIT - 1] + "…"
    return Derived(field="recommended_approach", value=line, source="rules",
                   explanation="talking points, things to avoid and next step from domain.scripts on this package")
