"""The one matching engine: policy phrases and regexes, per language, with negation.

Every language is data in the policy file; this module only knows whether a language separates words
with spaces (en) or not (zh), which decides how phrases are bounded and how the negation window counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from domain.triggers.schema import LanguageSection

# How far around a match to look for negation: far more than any window, so the scan stays O(1) per match.
_CONTEXT_CHARS = 200
# Trailing words are looked for in the end of a message only.
_TAIL_CHARS = 60
_FULLWIDTH_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
# One character in, one character out, so match offsets in the normalised text hold in the original.
_NORMALISE = str.maketrans(
    {**_FULLWIDTH_TO_ASCII, 0x3000: " ", 0x2018: "'", 0x2019: "'", 0x201C: '"', 0x201D: '"', 0x00A0: " "}
)


def normalise(text: str) -> str:
    """Straight quotes and ASCII punctuation for full-width forms ("，" -> ","), same length as text."""
    return text.translate(_NORMALISE)


def phrase_regex(phrase: str, word_boundaries: bool) -> str:
    """A policy phrase as a regex: spaces match any whitespace and `*` the rest of a word."""
    body = r"\s+".join(re.escape(word).replace(r"\*", r"\w*") for word in phrase.split())
    # Boundaries are ASCII-only so "要demo" still matches "demo" inside Chinese text.
    return rf"(?<![a-z0-9]){body}(?![a-z0-9])" if word_boundaries else body


def _alternation(
    phrases: Iterable[str], word_boundaries: bool, patterns: Iterable[str] = ()
) -> re.Pattern[str] | None:
    sources = [phrase_regex(phrase, word_boundaries) for phrase in phrases] + [f"(?:{p})" for p in patterns]
    return re.compile("|".join(sources), re.IGNORECASE) if sources else None


class LanguageRules:
    """How one language negates, breaks clauses and trails off."""

    def __init__(self, code: str, section: LanguageSection) -> None:
        self.code = code
        self.word_boundaries = section.word_boundaries
        self._window = section.negation_window
        self._negation = _alternation(section.negations, self.word_boundaries)
        self._not_negation = _alternation(section.not_negations, self.word_boundaries)
        self._negation_after = _alternation(section.negations_after, self.word_boundaries)
        self._clause_break = _alternation(section.clause_breaks, self.word_boundaries)
        trailing = _alternation(section.trailing_words, self.word_boundaries)
        self._trailing = re.compile(rf"(?:{trailing.pattern})\s*$", re.IGNORECASE) if trailing else None

    def is_negated(self, text: str, start: int, end: int) -> bool:
        """Whether a negation in the same clause, just before or after the match, cancels it."""
        before = self._clause_tail(text[max(0, start - _CONTEXT_CHARS) : start])
        if self._negation and self._negation.search(self._strip_not_negations(self._last(before))):
            return True
        after = self._clause_head(text[end : end + _CONTEXT_CHARS])
        return bool(self._negation_after and self._negation_after.search(self._first(after)))

    def trailing_word(self, text: str) -> str | None:
        found = self._trailing.search(text[-_TAIL_CHARS:]) if self._trailing else None
        return found.group().strip() if found else None

    def _clause_tail(self, text: str) -> str:
        breaks = list(self._clause_break.finditer(text)) if self._clause_break else []
        return text[breaks[-1].end() :] if breaks else text

    def _clause_head(self, text: str) -> str:
        found = self._clause_break.search(text) if self._clause_break else None
        return text[: found.start()] if found else text

    def _strip_not_negations(self, text: str) -> str:
        # "can't wait", "不错", "能不能": look like negations, are not.
        return self._not_negation.sub(" ", text) if self._not_negation else text

    def _last(self, text: str) -> str:
        return " ".join(text.split()[-self._window :]) if self.word_boundaries else text[-self._window :]

    def _first(self, text: str) -> str:
        return " ".join(text.split()[: self._window]) if self.word_boundaries else text[: self._window]


@dataclass(frozen=True, slots=True)
class Match:
    start: int
    end: int
    number: str | None
    """The first captured group, for patterns that capture a number (company size)."""


@dataclass(frozen=True, slots=True)
class Matcher:
    """All phrases and regexes of one rule in one language, as a single alternation."""

    language: LanguageRules
    regex: re.Pattern[str]

    @classmethod
    def build(cls, language: LanguageRules, phrases: list[str], patterns: list[str]) -> Matcher | None:
        regex = _alternation(phrases, language.word_boundaries, patterns)
        return cls(language, regex) if regex else None

    def find(self, normalised: str) -> Iterator[Match]:
        """Matches that no negation cancels, in order."""
        for found in self.regex.finditer(normalised):
            if found.end() > found.start() and not self.language.is_negated(normalised, *found.span()):
                number = next((group for group in found.groups() if group), None)
                yield Match(found.start(), found.end(), number)


def build_matchers(
    languages: dict[str, LanguageRules], phrases: dict[str, list[str]], patterns: dict[str, list[str]]
) -> tuple[Matcher, ...]:
    built = (
        Matcher.build(rules, phrases.get(code, []), patterns.get(code, [])) for code, rules in languages.items()
    )
    return tuple(matcher for matcher in built if matcher)
