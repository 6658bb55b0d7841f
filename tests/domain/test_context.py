"""The context package's text: free text refuses control characters but keeps tab and line breaks; a single line
(a name, a title, an address) refuses line breaks too. The same types hold the requests' and the reps' text."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.context import ContextPackage
from domain.reps import RepProfile
from domain.requests import BotInfo, ProspectAction, ProspectFeedback, RepAction

CONTROL = ["\x00", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9f"]
LINE_BREAK = ["\n", "\r", "\r\n", "\u2028", "\u2029"]


def _package(section: str, field: str, text: str) -> ContextPackage:
    return ContextPackage.model_validate({section: {field: text}} if section else {field: text})


# Text that may span lines.
FREE_TEXT = [("", "transfer_reason"), ("", "recommended_approach"), ("", "conversation_transcript"),
             ("summary", "initial_question"), ("qualification", "use_case"), ("sentiment", "notes")]
# One line.
LINES = [("prospect", "name"), ("prospect", "company"), ("prospect", "title"), ("prospect", "email"),
         ("prospect", "phone"), ("conversation", "channel")]


@pytest.mark.parametrize(("section", "field"), FREE_TEXT + LINES)
@pytest.mark.parametrize("control", CONTROL)
def test_a_control_character_is_refused_in_any_text_of_the_package(section, field, control):
    with pytest.raises(ValidationError, match="must not contain control characters"):
        _package(section, field, f"Acme{control}Corp")


@pytest.mark.parametrize(("section", "field"), FREE_TEXT)
def test_free_text_keeps_tabs_and_line_breaks(section, field):
    package = _package(section, field, "needs SSO\n\tand SCIM\r\nby Q3")
    assert "\n\tand SCIM\r\n" in (getattr(package, section) if section else package).model_dump()[field]


@pytest.mark.parametrize(("section", "field"), LINES)
@pytest.mark.parametrize("line_break", LINE_BREAK)
def test_a_line_break_is_refused_in_a_single_line(section, field, line_break):
    with pytest.raises(ValidationError, match="must be a single line"):
        _package(section, field, f"John{line_break}Smith")


def test_whitespace_around_a_name_is_stripped_before_it_is_checked():
    assert _package("prospect", "name", " John Smith\n").prospect.name == "John Smith"
    assert _package("prospect", "name", "Zoë\tDupont").prospect.name == "Zoë\tDupont"  # a tab is text


def test_notes_in_a_list_are_checked_each():
    notes = ["call after 5pm\nnot before"]
    assert ContextPackage(prospect_notes=notes).prospect_notes == notes
    with pytest.raises(ValidationError, match="control characters"):
        ContextPackage(prospect_notes=["fine", "not\x00fine"])


@pytest.mark.parametrize(("model", "fields", "text", "problem"), [
    (RepProfile, {"id": "sarah", "name": ...}, "Sarah\x00Chen", "control characters"),
    (RepProfile, {"id": "sarah", "name": ...}, "Sarah\nChen", "single line"),
    (RepProfile, {"id": "sarah", "name": "Sarah", "title": ...}, "AE\r\nBcc: x@example.com", "single line"),
    (RepProfile, {"id": "sarah", "name": "Sarah", "expertise": ...}, "SSO\x1b[31m", "control characters"),
    (BotInfo, {"name": ...}, "Ava\nBot", "single line"),
    (ProspectAction, {"action": "note", "note": ...}, "call me\x00", "control characters"),
    (RepAction, {"action": "decline", "reason": ...}, "busy\x07", "control characters"),
    (ProspectFeedback, {"from": "prospect", "csat": 5, "comment": ...}, "great\x00", "control characters"),
])
def test_requests_and_reps_refuse_the_same(model, fields, text, problem):
    with pytest.raises(ValidationError, match=problem):
        model.model_validate({name: text if value is ... else value for name, value in fields.items()})


def test_requests_and_reps_keep_line_breaks_where_text_spans_lines():
    assert ProspectAction(action="note", note="line one\nline two").note == "line one\nline two"
    assert RepProfile(id="sarah", name="Sarah", expertise="SSO\nSCIM").expertise == "SSO\nSCIM"
