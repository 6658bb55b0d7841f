"""Where triggers come from: policy phrases, known facts, repeated messages, question bursts, language."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from domain.triggers.facts import Facts
from domain.triggers.language import Detected
from domain.triggers.models import Evidence, KnownFacts, TriggerName
from domain.triggers.policy import Policy
from domain.triggers.schema import Thresholds
from domain.triggers.transcript import Line, Transcript

# ASCII words, or single letters of other scripts: a Chinese character is about a word.
_WORD = re.compile(r"[a-z0-9']+|[^\W\d_]")
EXCERPT_CHARS = 200
# "Why?" or "How much?" is not a question that needs an expert; four words and up can be.
_MIN_QUESTION_WORDS = 4
_CERTAIN = 1.0


@dataclass(frozen=True, slots=True)
class Signal:
    trigger: TriggerName
    evidence: Evidence
    confidence: float
    counts: int = 1
    """Toward the trigger's min_evidence."""


def phrase_signals(transcript: Transcript, policy: Policy) -> Iterator[Signal]:
    """At most one signal per message and trigger: one message saying it twice is still one message."""
    for line in transcript.lines:
        for rules in policy.triggers.values():
            confidence = rules.settings.confidence
            strong = line.first_match(rules.strong) if line.role == "prospect" else None
            if strong:
                yield Signal(rules.name, strong[0], confidence, counts=rules.settings.min_evidence)
                continue
            found = line.first_match({"prospect": rules.prospect, "bot": rules.bot}.get(line.role, ()))
            if found:
                yield Signal(rules.name, found[0], confidence)


def known_fact_signals(known: KnownFacts, facts: Facts, thresholds: Thresholds) -> Iterator[Signal]:
    if known.vip:
        yield Signal("vip_account", _known("vip", True), _CERTAIN)
    if known.account_tier and known.account_tier.casefold() in {tier.casefold() for tier in thresholds.vip_tiers}:
        yield Signal("vip_account", _known("account_tier", known.account_tier), _CERTAIN)
    if known.bot_fallbacks >= thresholds.bot_fallbacks:
        yield Signal("bot_cannot_answer", _known("bot_fallbacks", known.bot_fallbacks), _CERTAIN)
    score = known.qualification.score if known.qualification else None
    if score is not None and score >= thresholds.high_value_score:
        yield Signal("high_value", _known("qualification.score", score), _CERTAIN)
    size = facts.company_size
    if size and size.count >= thresholds.high_value_company_size:
        yield Signal("high_value", size.evidence, _CERTAIN)
    if size and size.count >= thresholds.enterprise_company_size:
        yield Signal("enterprise_inquiry", size.evidence, _CERTAIN)


def repeated_message_signals(transcript: Transcript, thresholds: Thresholds) -> Iterator[Signal]:
    """The bot giving the same answer again, or the prospect asking the same thing again: a loop."""
    for role in ("bot", "prospect"):
        recent: deque[frozenset[str]] = deque(maxlen=thresholds.repeated_message_lookback)
        for line in transcript.by(role):
            words = _words(line)
            if len(words) < thresholds.repeated_message_min_words:
                continue
            similarity = max((_overlap(words, earlier) for earlier in recent), default=0.0)
            if similarity >= thresholds.repeated_message_similarity:
                yield Signal("repeated_misunderstanding", _excerpt(line), round(similarity, 3))
            recent.append(words)


def question_burst_signals(transcript: Transcript, thresholds: Thresholds, confidence: float) -> Iterator[Signal]:
    """Several real questions in one message need someone who can take them all at once."""
    for line in transcript.by("prospect"):
        questions = [
            part for part in line.normalised.split("?")[:-1] if len(_WORD.findall(part.lower())) >= _MIN_QUESTION_WORDS
        ]
        if len(questions) >= thresholds.complex_question_min_questions:
            yield Signal("complex_question", _excerpt(line), confidence)


def language_signals(transcript: Transcript, prospect: Detected | None, bot_language: str | None) -> Iterator[Signal]:
    last = transcript.last("prospect")
    if prospect and last and prospect.code != bot_language:
        yield Signal("language_routing", _excerpt(last), prospect.confidence)


def _known(field: str, value: object) -> Evidence:
    return Evidence(message_index=-1, text=f"known.{field}: {value}")


def _excerpt(line: Line) -> Evidence:
    return Evidence(message_index=line.index, text=line.text[:EXCERPT_CHARS])


def _words(line: Line) -> frozenset[str]:
    return frozenset(_WORD.findall(line.normalised.lower()))


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b)
