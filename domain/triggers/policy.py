"""policy.toml, validated and compiled once into the rules the evaluator runs."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import get_args

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from domain.triggers.language import LanguageDetector
from domain.triggers.matching import LanguageRules, Matcher, build_matchers
from domain.triggers.models import TRIGGER_CATEGORY, TRIGGER_NAMES, Category, TriggerName
from domain.triggers.schema import FactName, PolicyFile, TriggerSection

DEFAULT_POLICY_PATH = Path(__file__).with_name("policy.toml")


class PolicyError(ValueError):
    """The policy file cannot be used; the message names the file and the bad key."""


@dataclass(frozen=True, slots=True)
class TriggerRules:
    name: TriggerName
    category: Category
    settings: TriggerSection
    prospect: tuple[Matcher, ...]
    strong: tuple[Matcher, ...]
    bot: tuple[Matcher, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    settings: PolicyFile
    languages: dict[str, LanguageRules]
    triggers: dict[TriggerName, TriggerRules]
    facts: dict[FactName, tuple[Matcher, ...]]
    detector: LanguageDetector


def load_policy(path: str | Path | None = None) -> Policy:
    """The bundled policy.toml, or the file at path. Raises PolicyError on a file that cannot be used."""
    path = Path(path) if path is not None else DEFAULT_POLICY_PATH
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError(f"{path}: cannot read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{path}: not valid TOML: {error}") from None
    try:
        settings = PolicyFile.model_validate(raw)
    except ValidationError as error:
        raise PolicyError(f"{path}: " + "; ".join(_describe(detail) for detail in error.errors())) from None
    try:
        detector = LanguageDetector(settings.language.candidates, settings.thresholds.language_confidence)
    except ValueError as error:
        raise PolicyError(f"{path}: language.candidates: {error}") from None
    return _compile(settings, detector)


@cache
@cache
def default_policy() -> Policy:
    """The bundled policy, built once per process: compiling its six languages' phrases takes most of a second."""
    return load_policy()


def _describe(detail: ErrorDetails) -> str:
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in detail["loc"]).lstrip(".")
    message = detail["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _compile(settings: PolicyFile, detector: LanguageDetector) -> Policy:
    languages = {code: LanguageRules(section) for code, section in settings.languages.items()}
    triggers: dict[TriggerName, TriggerRules] = {}
    for name in TRIGGER_NAMES:
        section = settings.triggers[name]
        triggers[name] = TriggerRules(
            name,
            TRIGGER_CATEGORY[name],
            section,
            prospect=build_matchers(languages, section.phrases, section.patterns),
            strong=build_matchers(languages, section.strong_phrases, section.strong_patterns),
            bot=build_matchers(languages, section.bot_phrases, section.bot_patterns),
        )
    facts: dict[FactName, tuple[Matcher, ...]] = {}
    for fact in get_args(FactName):
        fact_section = getattr(settings.facts, fact)
        facts[fact] = build_matchers(languages, getattr(fact_section, "phrases", {}), fact_section.patterns)
    return Policy(settings, languages, triggers, facts, detector)
