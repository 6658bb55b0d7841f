"""Policy phrases as one regex: spaces match any whitespace, `*` the rest of a word.

The phrases are merged into a trie ("not helpful|not helping" -> "not\\s+help(?:ful|ing)") because
Python's regex engine tries alternatives one by one: with a hundred phrases per trigger, the trie makes
matching about four times faster than a plain alternation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_Trie = dict[str, "_Trie"]
_END = ""


def phrases_regex(phrases: Iterable[str]) -> str:
    """A regex matching any of the phrases (case-insensitively when compiled with re.IGNORECASE)."""
    root: _Trie = {}
    for phrase in phrases:
        node = root
        for atom in _atoms(phrase):
            node = node.setdefault(atom, {})
        node[_END] = {}
    return _emit(root)


def _atoms(phrase: str) -> list[str]:
    atoms: list[str] = []
    for position, word in enumerate(phrase.split()):
        if position:
            atoms.append(r"\s+")
        atoms += [r"\w*" if char == "*" else re.escape(char.lower()) for char in word]
    return atoms


def _emit(node: _Trie) -> str:
    branches = [atom + _emit(child) for atom, child in node.items() if atom != _END]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
    if _END not in node:
        return body
    # A phrase ends here and longer ones go on: the rest is optional.
    return f"(?:{body})?" if len(branches) == 1 else f"{body}?"
