"""The shape of policy.toml. Validated with pydantic so a bad edit fails at load, naming the key."""

from __future__ import annotations

import re
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from domain.triggers.models import TRIGGER_NAMES, Category, TriggerName

FactName = Literal["use_case", "company_size", "contact_info",
                   "budget", "timeline", "decision_maker", "pain_point", "need"]  # these for the context package
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
Phrase = Annotated[str, StringConstraints(max_length=200, pattern=r"\S")]
Share = Annotated[float, Field(ge=0, le=1)]


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
        # And as it will run, one alternative among others: "(?i)" must not end up mid-pattern.
        re.compile(f"(?:{pattern})")
    except re.error as error:
        raise ValueError(f"invalid regular expression {pattern!r}: {error}") from None
    return pattern


def _captures(pattern: str) -> str:
    if re.compile(pattern).groups < 1:
        raise ValueError(f"{pattern!r} needs a (group) around the number")
    return pattern


Regex = Annotated[str, AfterValidator(_compiles)]
PhrasesPerLanguage = dict[LanguageCode, list[Phrase]]
RegexesPerLanguage = dict[LanguageCode, list[Regex]]


class _Section(BaseModel):
    # A misspelt key must fail loudly instead of silently falling back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoriesSection(_Section):
    order: list[Category]

    @model_validator(mode="after")
    def _is_permutation(self) -> CategoriesSection:
        if sorted(self.order) != sorted(get_args(Category)):
            raise ValueError(f"order must list each of {list(get_args(Category))} exactly once")
        return self


class Bands(_Section):
    """Lowest urgency score of each band; below normal is low."""

    critical: Annotated[int, Field(ge=1, le=100)]
    high: Annotated[int, Field(ge=1, le=100)]
    normal: Annotated[int, Field(ge=1, le=100)]

    @model_validator(mode="after")
    def _descending(self) -> Bands:
        if not self.critical > self.high > self.normal:
            raise ValueError("bands must satisfy critical > high > normal")
        return self


class UrgencySection(_Section):
    per_extra_trigger: Annotated[int, Field(ge=0, le=100)]
    bands: Bands


class Thresholds(_Section):
    high_value_score: Annotated[int, Field(ge=0, le=100)]
    high_value_company_size: Annotated[int, Field(ge=1)]
    enterprise_company_size: Annotated[int, Field(ge=1)]
    bot_fallbacks: Annotated[int, Field(ge=1)]
    repeated_message_similarity: Annotated[float, Field(gt=0, le=1)]
    repeated_message_min_words: Annotated[int, Field(ge=1, le=100)]
    repeated_message_lookback: Annotated[int, Field(ge=1, le=20)]
    complex_question_min_questions: Annotated[int, Field(ge=2, le=50)]
    language_confidence: Share
    evidence_per_trigger: Annotated[int, Field(ge=1, le=50)]
    scan_chars: Annotated[int, Field(ge=1_000, le=10_000_000)]
    vip_tiers: list[Phrase]


class LanguageDetectionSection(_Section):
    default_bot_language: LanguageCode
    candidates: Annotated[list[LanguageCode], Field(min_length=2)]


class LanguageSection(_Section):
    word_boundaries: bool
    negation_window: Annotated[int, Field(ge=1, le=50)]
    negations: Annotated[list[Phrase], Field(min_length=1)]
    not_negations: list[Phrase] = []
    negations_after: list[Phrase] = []
    clause_breaks: Annotated[list[Phrase], Field(min_length=1)]
    trailing_words: list[Phrase] = []


def _languages(*per_language: dict[str, list[str]]) -> set[str]:
    return {code for mapping in per_language for code in mapping}


class Matchable(_Section):
    phrases: PhrasesPerLanguage = {}
    patterns: RegexesPerLanguage = {}

    def languages(self) -> set[str]:
        return _languages(self.phrases, self.patterns)


class CompanySizeSection(_Section):
    # Only regexes: each captures the number in its first (group).
    patterns: dict[LanguageCode, list[Annotated[Regex, AfterValidator(_captures)]]] = {}

    def languages(self) -> set[str]:
        return _languages(self.patterns)


class FactsSection(_Section):
    use_case: Matchable
    company_size: CompanySizeSection
    contact_info: Matchable
    # For the context package only: a policy file without them reads none of these from the transcript.
    budget: Matchable = Matchable()
    timeline: Matchable = Matchable()
    decision_maker: Matchable = Matchable()
    pain_point: Matchable = Matchable()
    need: Matchable = Matchable()


class TriggerSection(Matchable):
    weight: Annotated[int, Field(ge=0, le=100)]
    """Urgency score (0-100) when this trigger fires."""
    confidence: Annotated[float, Field(gt=0, le=1)]
    """Confidence of one matching message; more messages raise it."""
    min_evidence: Annotated[int, Field(ge=1, le=20)] = 1
    strong_phrases: PhrasesPerLanguage = {}
    """Prospect words that are enough alone, whatever min_evidence ("for the third time")."""
    strong_patterns: RegexesPerLanguage = {}
    bot_phrases: PhrasesPerLanguage = {}
    bot_patterns: RegexesPerLanguage = {}

    def languages(self) -> set[str]:
        return _languages(
            self.phrases, self.patterns, self.strong_phrases, self.strong_patterns, self.bot_phrases, self.bot_patterns
        )


class TimingSection(_Section):
    collect_first_categories: list[Category]
    need_any: Annotated[list[FactName], Field(min_length=1)]
    collect: Annotated[list[FactName], Field(min_length=1)]
    need_implied_by: list[TriggerName] = []
    trailing_marks: list[Phrase]


class PolicyFile(_Section):
    categories: CategoriesSection
    urgency: UrgencySection
    thresholds: Thresholds
    language: LanguageDetectionSection
    languages: Annotated[dict[LanguageCode, LanguageSection], Field(min_length=1)]
    timing: TimingSection
    facts: FactsSection
    triggers: dict[str, TriggerSection]

    @model_validator(mode="after")
    def _every_trigger_once(self) -> PolicyFile:
        unknown = sorted(set(self.triggers) - set(TRIGGER_NAMES))
        if unknown:
            raise ValueError(f"unknown trigger name(s) {unknown}; known: {list(TRIGGER_NAMES)}")
        missing = [name for name in TRIGGER_NAMES if name not in self.triggers]
        if missing:
            raise ValueError(f"missing [triggers.<name>] section(s) for {missing}")
        return self

    @model_validator(mode="after")
    def _languages_are_defined(self) -> PolicyFile:
        sections = {f"triggers.{name}": section for name, section in self.triggers.items()}
        sections |= {f"facts.{name}": getattr(self.facts, name) for name in get_args(FactName)}
        for key, section in sections.items():
            undefined = sorted(section.languages() - set(self.languages))
            if undefined:
                raise ValueError(f"{key} uses language(s) {undefined} that have no [languages.<code>] section")
        return self
