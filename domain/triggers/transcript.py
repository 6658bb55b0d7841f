"""The request's messages, normalised once for every matcher that reads them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from domain.triggers.matching import Match, Matcher, normalise
from domain.triggers.models import Evidence, Message, Role


@dataclass(frozen=True, slots=True)
class Line:
    index: int
    role: Role
    text: str
    normalised: str

    def matches(self, matchers: Iterable[Matcher]) -> Iterator[tuple[Evidence, Match]]:
        """Un-negated matches, each with the words that fired as evidence."""
        for matcher in matchers:
            for match in matcher.find(self.normalised):
                yield Evidence(message_index=self.index, text=self.text[match.start : match.end]), match

    def first_match(self, matchers: Iterable[Matcher]) -> tuple[Evidence, Match] | None:
        return next(self.matches(matchers), None)


class Transcript:
    def __init__(self, messages: list[Message], scan_chars: int) -> None:
        """The latest messages, up to scan_chars of text: older text no longer decides a transfer, and the
        bound keeps a 500 x 20,000-character request from taking seconds."""
        latest_first: list[Line] = []
        for index in range(len(messages) - 1, -1, -1):
            text = messages[index].text[-scan_chars:]
            latest_first.append(Line(index, messages[index].role, text, normalise(text)))
            scan_chars -= len(text)
            if scan_chars <= 0:
                break
        self.lines = latest_first[::-1]

    def by(self, role: Role) -> list[Line]:
        return [line for line in self.lines if line.role == role]

    def last(self, role: Role) -> Line | None:
        return next((line for line in reversed(self.lines) if line.role == role), None)

    def tail_text(self, role: Role, chars: int) -> str:
        """The latest text of one side, about chars long: enough to tell its language."""
        parts: list[str] = []
        for line in reversed(self.by(role)):
            parts.append(line.text)
            chars -= len(line.text)
            if chars <= 0:
                break
        return "\n".join(reversed(parts))
