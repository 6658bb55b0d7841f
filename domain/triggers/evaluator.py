"""evaluate(): should the bot hand this prospect to a human, why, how urgently and when.

The policy's rules always run: they quote the words that fired and read the known facts. With a Meaning (a
sentence encoder and models trained on labelled conversations), the model decides: it reads paraphrase, other
languages and context the phrase lists miss, and the rules' findings are among what it weighs. Facts the bot
states (a VIP account, a qualification score over the threshold) still fire on their own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from domain.triggers.facts import Facts, gather_facts
from domain.triggers.language import SAMPLE_CHARS, Detected
from domain.triggers.meaning import Meaning, Reading
from domain.triggers.models import (
    TRIGGER_NAMES,
    Category,
    EvaluateRequest,
    Evaluation,
    Evidence,
    Timing,
    TriggerHit,
    TriggerName,
    Urgency,
)
from domain.triggers.policy import Policy, default_policy
from domain.triggers.signals import (
    Signal,
    known_fact_signals,
    language_signals,
    phrase_signals,
    question_burst_signals,
    repeated_message_signals,
)
from domain.triggers.timing import advise, explain
from domain.triggers.transcript import Transcript

NO_REP_WARNING = "no human available: tell the prospect before promising one"
# The meaning model's bar for a transfer and for each trigger: probabilities, trained with balanced classes.
TRANSFER_BAR = 0.5
TRIGGER_BAR = 0.5
REP_PRESENT_WARNING = "a rep has already joined this conversation"


def evaluate(request: EvaluateRequest, policy: Policy | None = None, meaning: Meaning | None = None) -> Evaluation:
    policy = policy or default_policy()
    settings = policy.settings
    transcript = Transcript(request.messages, settings.thresholds.scan_chars)
    facts = gather_facts(transcript, request.known, policy)
    prospect_language = policy.detector.detect(transcript.tail_text("prospect", SAMPLE_CHARS))
    bot_language = _bot_language(request, transcript, policy) if prospect_language else None
    signals = [
        *phrase_signals(transcript, policy),
        *known_fact_signals(request.known, facts, settings.thresholds),
        *repeated_message_signals(transcript, settings.thresholds),
        *question_burst_signals(transcript, settings.thresholds, settings.triggers["complex_question"].confidence),
        *language_signals(transcript, prospect_language, bot_language),
    ]
    hits = _hits(signals, policy)
    category = _category(hits, policy)
    rules = Evaluation(
        transfer=bool(hits),
        category=category,
        triggers=hits,
        urgency=urgency_of(hits, policy) if hits else None,
        language=prospect_language.code if prospect_language else None,
        timing=advise({hit.name for hit in hits}, category, facts, transcript, policy),
        warnings=warnings_for(request, transcript) if hits else [],
    )
    if meaning is None:
        return rules
    return _weighed(rules, meaning.read(request, rules), request, transcript, facts, policy)


def _weighed(rules: Evaluation, reading: Reading, request: EvaluateRequest, transcript: Transcript, facts: Facts,
             policy: Policy) -> Evaluation:
    """The model's reading, explained: the rules' evidence where they agree, the model's clause where not."""
    stated = {hit.name for hit in rules.triggers if all(evidence.message_index < 0 for evidence in hit.evidence)}
    if reading.transfer < TRANSFER_BAR and not stated:
        return Evaluation(transfer=False, category=None, triggers=[], urgency=None, language=rules.language,
                          timing=Timing(advice=None))
    by_rules = {hit.name: hit for hit in rules.triggers}
    names = {name for name, score in reading.triggers.items() if score >= TRIGGER_BAR} | stated
    if not names:  # a transfer the model is sure of, with no single reason sure enough: its likeliest one
        names = {max(reading.triggers, key=reading.triggers.__getitem__)}
    hits = [
        TriggerHit(
            name=name,
            category=policy.triggers[name].category,
            evidence=by_rules[name].evidence if name in by_rules else [reading.evidence[name]],
            confidence=_confidence(reading.triggers[name], by_rules.get(name)),
        )
        for name in TRIGGER_NAMES
        if name in names
    ]
    hits.sort(key=lambda hit: policy.settings.categories.order.index(hit.category))
    category = hits[0].category  # the most pressing: hits are in the policy's category order
    advice = max(reading.timing, key=reading.timing.__getitem__)
    fired = {hit.name for hit in hits}
    timing = rules.timing if rules.timing.advice == advice else explain(advice, fired, category, facts, policy)
    return Evaluation(
        transfer=True,
        category=category,
        triggers=hits,
        urgency=urgency_of(hits, policy),
        language=rules.language,
        timing=timing,
        warnings=warnings_for(request, transcript),
    )


def _confidence(model: float, rules: TriggerHit | None) -> float:
    # Never 0 for a trigger that fired: the likeliest of unlikely reasons still has some weight.
    return max(round(model, 3), rules.confidence if rules else 0, 0.001)


def _category(hits: list[TriggerHit], policy: Policy) -> Category | None:
    return next((c for c in policy.settings.categories.order if any(hit.category == c for hit in hits)), None)


def _bot_language(request: EvaluateRequest, transcript: Transcript, policy: Policy) -> str:
    """What the bot demonstrably writes in, else the channel's locale, else the policy's default."""
    written: Detected | None = policy.detector.detect(transcript.tail_text("bot", SAMPLE_CHARS))
    if written:
        return written.code
    if request.locale:
        return request.locale.replace("_", "-").split("-")[0].lower()
    return policy.settings.language.default_bot_language


def _hits(signals: Iterable[Signal], policy: Policy) -> list[TriggerHit]:
    by_trigger: dict[TriggerName, list[Signal]] = defaultdict(list)
    for signal in signals:
        by_trigger[signal.trigger].append(signal)
    keep = policy.settings.thresholds.evidence_per_trigger
    hits = []
    for name in TRIGGER_NAMES:
        rules = policy.triggers[name]
        found = by_trigger.get(name, [])
        if sum(signal.counts for signal in found) < rules.settings.min_evidence:
            continue
        evidence = list(dict.fromkeys(_sorted_evidence(found)))[-keep:]
        hits.append(TriggerHit(name=name, category=rules.category, evidence=evidence, confidence=_combined(found)))
    rank = {category: position for position, category in enumerate(policy.settings.categories.order)}
    return sorted(hits, key=lambda hit: rank[hit.category])


def _sorted_evidence(signals: list[Signal]) -> list[Evidence]:
    # Known facts (-1) first, then messages in conversation order, so the most recent are kept.
    return sorted((signal.evidence for signal in signals), key=lambda evidence: evidence.message_index)


def _combined(signals: list[Signal]) -> float:
    """Independent pieces of evidence: each one makes a false alarm less likely."""
    doubt = 1.0
    for signal in signals:
        doubt *= 1 - signal.confidence
    return round(1 - doubt, 3)


def urgency_of(hits: list[TriggerHit], policy: Policy) -> Urgency:
    urgency = policy.settings.urgency
    weights = sorted((policy.triggers[hit.name].settings.weight for hit in hits), reverse=True)
    score = min(100, weights[0] + urgency.per_extra_trigger * (len(weights) - 1))
    bands = urgency.bands
    floors: list[tuple[Urgency, int]] = [("critical", bands.critical), ("high", bands.high), ("normal", bands.normal)]
    return next((level for level, floor in floors if score >= floor), "low")


def warnings_for(request: EvaluateRequest, transcript: Transcript) -> list[str]:
    warnings = []
    if request.known.reps_available is False:
        warnings.append(NO_REP_WARNING)
    if transcript.last("rep"):
        warnings.append(REP_PRESENT_WARNING)
    return warnings
