"""What the known facts and the prospect's words already tell about the need: use case, size, contact."""

from __future__ import annotations

from dataclasses import dataclass

from domain.triggers.matching import normalise
from domain.triggers.models import Evidence, KnownFacts
from domain.triggers.numbers import parse_count
from domain.triggers.policy import Policy
from domain.triggers.schema import FactName
from domain.triggers.transcript import Line, Transcript


@dataclass(frozen=True, slots=True)
class CompanySize:
    count: int
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class Facts:
    known: frozenset[FactName]
    company_size: CompanySize | None


def gather_facts(transcript: Transcript, known: KnownFacts, policy: Policy) -> Facts:
    prospect_lines = transcript.by("prospect")
    qualification = known.qualification
    size = _known_size(qualification.company_size if qualification else None, policy) or _largest_size(
        prospect_lines, policy
    )
    found: set[FactName] = set()
    if size:
        found.add("company_size")
    if (qualification and qualification.use_case) or _mentioned("use_case", prospect_lines, policy):
        found.add("use_case")
    prospect = known.prospect
    if (prospect and (prospect.email or prospect.phone)) or _mentioned("contact_info", prospect_lines, policy):
        found.add("contact_info")
    return Facts(frozenset(found), size)


def _mentioned(fact: FactName, lines: list[Line], policy: Policy) -> bool:
    return any(line.first_match(policy.facts[fact]) for line in lines)


def _known_size(value: str | None, policy: Policy) -> CompanySize | None:
    """qualification.company_size as the bot recorded it: "500+ employees", "300", "三百人"."""
    if not value:
        return None
    line = Line(-1, "prospect", value, normalise(value))
    found = line.first_match(policy.facts["company_size"])
    count = parse_count(found[1].number or "") if found else parse_count(value)
    evidence = Evidence(message_index=-1, text=f"known.qualification.company_size: {value}")
    return CompanySize(count, evidence) if count else None


def _largest_size(lines: list[Line], policy: Policy) -> CompanySize | None:
    # The largest figure is the organisation; smaller ones are usually the first team to roll out to.
    sizes = [
        CompanySize(count, evidence)
        for line in lines
        for evidence, match in line.matches(policy.facts["company_size"])
        if (count := parse_count(match.number or ""))
    ]
    return max(sizes, key=lambda size: size.count, default=None)
