"""The bot's transcript as messages, and what the trigger evaluator reads in them about the prospect's mood."""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.triggers import EvaluateRequest, KnownFacts, Message, Policy, TriggerName, evaluate
from domain.triggers.facts import gather_facts
from domain.triggers.models import Role
from domain.triggers.schema import FactName
from domain.triggers.transcript import Line, Transcript

SPEAKERS: dict[str, Role] = {
    "prospect": "prospect",
    "customer": "prospect",
    "user": "prospect",
    "visitor": "prospect",
    "客户": "prospect",
    "潜在客户": "prospect",
    "用户": "prospect",
    "访客": "prospect",
    "cliente": "prospect",
    "client": "prospect",
    "prospecto": "prospect",
    "kunde": "prospect",
    "kundin": "prospect",
    "interessent": "prospect",
    "お客様": "prospect",
    "顧客": "prospect",
    "ユーザー": "prospect",
    "bot": "bot",
    "assistant": "bot",
    "机器人": "bot",
    "asistente": "bot",
    "assistent": "bot",
    "ボット": "bot",
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
# A sentence ends at a mark followed by a space (not "$40.5k", "e.g.x") or a full-width mark or a line break.
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|[。！？\n]")
_QUESTION_END = re.compile(r"\?(?=\s|$)|？")
SENTENCE_CHARS = 200
MAX_SAID = 3  # needs or pain points kept: the rep scans them in seconds

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
class Said:
    """A sentence of the prospect's, in their words, and the words in it that show what it tells."""

    sentence: str
    words: str


@dataclass(frozen=True, slots=True)
class Reading:
    """What the transcript shows about the prospect."""

    prospect_messages: int
    negative: list[Sign]
    buying: list[Sign]
    head_count: str | None
    """The largest head count the prospect wrote, in their words: "500 users", "300人"."""
    language: str | None
    first_question: Said | None = None
    use_case: Said | None = None
    budget: Said | None = None  # the latest sentence about it: a figure may be revised
    timeline: Said | None = None
    decision_maker: Said | None = None  # the prospect says the decision is theirs
    needs: tuple[Said, ...] = ()
    pain_points: tuple[Said, ...] = ()


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
    lines = transcript.by("prospect")

    def said(fact: FactName) -> list[Said]:
        found: dict[str, Said] = {}  # one of each sentence, in the order written
        for line in lines:
            for evidence, match in line.matches(policy.facts[fact]):
                sentence = _sentence(line.text, match.start, match.end)
                found.setdefault(sentence, Said(sentence, evidence.text))
        return list(found.values())

    return Reading(
        prospect_messages,
        negative=found(NEGATIVE),
        buying=found(BUYING),
        head_count=size.evidence.text if size else None,
        language=evaluation.language,
        first_question=_first_question(lines),
        use_case=next(iter(said("use_case")), None),
        budget=next(reversed(said("budget")), None),
        timeline=next(reversed(said("timeline")), None),
        decision_maker=next(iter(said("decision_maker")), None),
        needs=tuple(said("need")[:MAX_SAID]),
        pain_points=tuple(said("pain_point")[:MAX_SAID]),
    )


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence of `text` around [start, end), at most SENTENCE_CHARS long (cut around the match)."""
    begin = max((mark.end() for mark in _SENTENCE_END.finditer(text, 0, start)), default=0)
    stop = _SENTENCE_END.search(text, max(start, end - 1))  # a mark that ends the match ends the sentence
    sentence = text[begin : stop.end() if stop else len(text)]
    if len(sentence) > SENTENCE_CHARS:
        middle = (start + end) // 2 - begin
        left = max(0, min(middle - SENTENCE_CHARS // 2, len(sentence) - SENTENCE_CHARS))
        sentence = "…" + sentence[left : left + SENTENCE_CHARS - 2].strip() + "…"
    return " ".join(sentence.split())


def _first_question(lines: list[Line]) -> Said | None:
    """The prospect's first question: what they came to ask."""
    for line in lines:
        for mark in _QUESTION_END.finditer(line.text):
            sentence = _sentence(line.text, mark.start(), mark.end())
            return Said(sentence, sentence)
    return None


def quoted(signs: list[Sign]) -> str:
    """'frustration "ridiculous", repeated misunderstanding "could you rephrase" (bot)': what fired, in whose words."""
    return ", ".join(
        f'{sign.trigger.replace("_", " ")} "{sign.words}"' + ("" if sign.by == "prospect" else f" ({sign.by})")
        for sign in signs
    )
