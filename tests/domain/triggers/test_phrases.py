"""The phrase trie matches exactly what a plain alternation of the phrases would."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from domain.triggers.phrases import phrases_regex

WORDS = st.text(alphabet="abcde*", min_size=1, max_size=4).filter(lambda word: word != "*" * len(word))
PHRASES = st.lists(st.lists(WORDS, min_size=1, max_size=3).map(" ".join), min_size=1, max_size=8)


def plain(phrases: list[str]) -> re.Pattern[str]:
    bodies = (r"\s+".join(re.escape(word).replace(r"\*", r"\w*") for word in phrase.split()) for phrase in phrases)
    return re.compile(rf"^(?:{'|'.join(bodies)})$", re.IGNORECASE)


@given(PHRASES, st.text(alphabet="abcdeABC \t", max_size=12))
def test_the_trie_accepts_exactly_the_phrases(phrases, text):
    trie = re.compile(rf"^(?:{phrases_regex(phrases)})$", re.IGNORECASE)
    assert bool(trie.match(text)) == bool(plain(phrases).match(text))


def test_shared_prefixes_are_merged():
    assert phrases_regex(["not helpful", "not helping"]) == r"not\s+help(?:ful|ing)"
    assert phrases_regex(["demo", "demos"]) == "demo(?:s)?"
