"""The one matching engine: policy phrases and regexes, per language, with negation.

Every language is data in the policy file; this module only knows whether a language separates words
with spaces (en) or not (zh), which decides how phrases are bounded and how the negation window counts.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from domain.triggers.phrases import phrases_regex
from domain.triggers.schema import LanguageSection

# A message negating the same words over and over ("not a demo, not a demo, ...") is not asking for them:
# stop looking after this many negated matches, which bounds the work on hostile input.
_MAX_NEGATED = 50
# How far around a match to look for negation: far more than any window, so the scan stays O(1) per match.
_CONTEXT_CHARS = 200
# Trailing words are looked for in the end of a message only.
_TAIL_CHARS = 60
_FULLWIDTH_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
# One character in, one character out, so match offsets in the normalised text hold in the original.
_NORMALISE = str.maketrans(
    {**_FULLWIDTH_TO_ASCII, 0x3000: " ", 0x2018: "'", 0x2019: "'", 0x201C: '"', 0x201D: '"', 0x00A0: " "}
)


# Long runs of spaces or of digits and separators are cut short: a regex with "\s*\s*" or "[\d,.]*" tries every
# split of a run, from every place in it, and 20,000 "8"s took 30 s. No phrase or number a prospect writes is
# longer; what is past the cut becomes a character no rule matches.
_SPACES_KEPT, _NUMBER_KEPT = 4, 32
_SPACE_RUN = re.compile(rf"\s{{{_SPACES_KEPT + 1},}}")
_NUMERAL = "\\d一二两三四五六七八九十百千万亿零〇"
_NUMBER_RUN = re.compile(rf"[{_NUMERAL}][{_NUMERAL}.,'\s\u202f]{{{_NUMBER_KEPT},}}")
_CUT = "\ue000"  # a private-use character: no word, space, digit or punctuation


def normalise(text: str) -> str:
    """Straight quotes and ASCII punctuation for full-width forms ("，" -> ","), long runs cut short; the same
    length as text, so a match's offsets hold in the original."""
    text = _SPACE_RUN.sub(_cut_spaces, text.translate(_NORMALISE))
    return _NUMBER_RUN.sub(lambda run: _cut_after(run.group(), _NUMBER_KEPT), text)


def _cut_spaces(run: re.Match[str]) -> str:
    cut = _cut_after(run.group(), _SPACES_KEPT)
    if "\n" in run.group() and "\n" not in cut:  # a line break in the run still ends a clause
        cut = cut[: _SPACES_KEPT - 1] + "\n" + cut[_SPACES_KEPT:]
    return cut


def _cut_after(run: str, length: int) -> str:
    return run[:length] + _CUT * (len(run) - length)


def _alternation(phrases: Iterable[str], word_boundaries: bool, patterns: Iterable[str] = ()) -> re.Pattern[str] | None:
    # Boundaries go only where a phrase starts or ends with a word character ("demo", not ","), and are
    # ASCII-only so "要demo" still matches "demo" in Chinese text. Written once around each group of
    # phrases: far faster than around each phrase, since most positions fail at once.
    by_edges: dict[tuple[bool, bool], list[str]] = defaultdict(list)
    for phrase in phrases:
        edges = (_is_word_char(phrase.strip()[0]), _is_word_char(phrase.strip()[-1]))
        by_edges[edges if word_boundaries else (False, False)].append(phrase)
    sources = [
        ("(?<![a-z0-9])" if left else "") + f"(?:{phrases_regex(group)})" + ("(?![a-z0-9])" if right else "")
        for (left, right), group in by_edges.items()
    ]
    sources += [f"(?:{pattern})" for pattern in patterns]
    return re.compile("|".join(sources), re.IGNORECASE) if sources else None


def _is_word_char(char: str) -> bool:
    return char == "*" or (char.isascii() and char.isalnum())


class LanguageRules:
    """How one language negates, breaks clauses and trails off."""

    def __init__(self, section: LanguageSection) -> None:
        self.word_boundaries = section.word_boundaries
        self._window = section.negation_window
        self._negation = _alternation(section.negations, self.word_boundaries)
        self._not_negation = _alternation(section.not_negations, self.word_boundaries)
        self._negation_after = _alternation(section.negations_after, self.word_boundaries)
        # A line break always ends a clause, whatever the language.
        self._clause_break = _alternation(section.clause_breaks, self.word_boundaries, patterns=[r"\n"])
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

    regex: re.Pattern[str]
    negations: tuple[LanguageRules, ...]
    """Every language's negations apply: Chinese can negate an English term ("不需要SSO")."""

    def find(self, normalised: str) -> Iterator[Match]:
        """Matches that no negation cancels, in order."""
        negated = 0
        for found in self.regex.finditer(normalised):
            start, end = found.span()
            if end == start:
                continue
            if any(rules.is_negated(normalised, start, end) for rules in self.negations):
                negated += 1
                if negated >= _MAX_NEGATED:
                    return
                continue
            yield Match(start, end, number=next((group for group in found.groups() if group), None))


def build_matchers(
    languages: dict[str, LanguageRules], phrases: dict[str, list[str]], patterns: dict[str, list[str]]
) -> tuple[Matcher, ...]:
    """The rule's phrases and patterns of every language in as few alternations as there are ways of bounding
    words (whole words or not): each message is scanned twice per rule, not once per language."""
    negations = tuple(languages.values())
    by_bounding: dict[bool, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for code, rules in languages.items():
        group_phrases, group_patterns = by_bounding[rules.word_boundaries]
        group_phrases += phrases.get(code, [])
        group_patterns += patterns.get(code, [])
    regexes = (_alternation(group_phrases, bounded, group_patterns)
               for bounded, (group_phrases, group_patterns) in by_bounding.items())
    return tuple(Matcher(regex, negations) for regex in regexes if regex)
