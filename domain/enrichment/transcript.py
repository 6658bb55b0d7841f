"""The bot's transcript as messages, and what the trigger evaluator reads in them about the prospect's mood."""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.triggers import EvaluateRequest, KnownFacts, Message, Policy, TriggerName, evaluate
from domain.triggers.facts import gather_facts
from domain.triggers.models import Role
from domain.triggers.transcript import Transcript

SPEAKERS: dict[str, Role] = {
    "prospect": "prospect",
    "customer": "prospect",
    "user": "prospect",
    "visitor": "prospect",
    "客户": "prospect",
    "潜在客户": "prospect",
    "用户": "prospect",
    "访客": "prospect",
    "bot": "bot",
    "assistant": "bot",
    "机器人": "bot",
    "rep": "rep",
    "客服": "rep",
}
# "Prospect: ...", "[14:02] Bot: ...", "客户：..." (full-width colon); longest names first so 潜在客户 wins over 客户.
_SPEAKER = re.compile(
    r"[ \t]*(?:\[[^\]\n]*\][ \t]*)?("
    + "|".join(sorted(map(re.escape, SPEAKERS), key=len, reverse=True))
    + r")[ \t]*[:：][ \t]*",
    re.IGNORECASE,
)
# The evaluator's request limits: the latest messages and the end of each one decide.
MAX_MESSAGES = 500
MAX_TEXT = 20_000

NEGATIVE: tuple[TriggerName, ...] = ("frustration", "repeated_misunderstanding", "complaint")
BUYING: tuple[TriggerName, ...] = ("buying_signal", "demo_request")


def parse_transcript(text: str | None) -> list[Message]:
    """One message per speaker line; lines without a speaker continue the message before them.
    A link, a placeholder or any text without a speaker line gives []."""
    messages: list[tuple[Role, list[str]]] = []
    for line in (text or "").splitlines():
        speaker = _SPEAKER.match(line)
        if speaker:
            messages.append((SPEAKERS[speaker.group(1).lower()], [line[speaker.end() :]]))
        elif messages:
            messages[-1][1].append(line)
    joined = ((role, "\n".join(lines).strip()) for role, lines in messages)
    return [Message(role=role, text=text[-MAX_TEXT:]) for role, text in joined if text]


@dataclass(frozen=True, slots=True)
class Sign:
    trigger: TriggerName
    words: str
    by: Role


@dataclass(frozen=True, slots=True)
class Reading:
    """What the transcript shows about the prospect."""

    prospect_messages: int
    negative: list[Sign]
    buying: list[Sign]
    head_count: str | None
    """The largest head count the prospect wrote, in their words: "500 users", "300人"."""
    language: str | None


def read(messages: list[Message], policy: Policy) -> Reading | None:
    """None when the prospect never speaks: then the transcript says nothing about them."""
    messages = messages[-MAX_MESSAGES:]
    prospect_messages = sum(message.role == "prospect" for message in messages)
    if not prospect_messages:
        return None
    evaluation = evaluate(EvaluateRequest(messages=messages), policy)

    def found(names: tuple[TriggerName, ...]) -> list[Sign]:
        hits = (hit for hit in evaluation.triggers if hit.name in names)
        return [Sign(hit.name, e.text, messages[e.message_index].role) for hit in hits for e in hit.evidence]

    transcript = Transcript(messages, policy.settings.thresholds.scan_chars)
    size = gather_facts(transcript, KnownFacts(), policy).company_size
    return Reading(
        prospect_messages,
        negative=found(NEGATIVE),
        buying=found(BUYING),
        head_count=size.evidence.text if size else None,
        language=evaluation.language,
    )


def quoted(signs: list[Sign]) -> str:
    """'frustration "ridiculous", repeated misunderstanding "could you rephrase" (bot)': what fired, in whose words."""
    return ", ".join(
        f'{sign.trigger.replace("_", " ")} "{sign.words}"' + ("" if sign.by == "prospect" else f" ({sign.by})")
        for sign in signs
    )
