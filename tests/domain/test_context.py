"""The context package's text: free text refuses control characters but keeps tab and line breaks; a single line
(a name, a title, an address) has its line breaks joined into a space. The same types hold the requests' and the
reps' text."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.context import PROSPECT_NOTES_MAX, ContextPackage, Prospect
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
def test_a_single_line_has_its_line_breaks_joined_into_a_space(section, field, line_break):
    package = _package(section, field, f"John {line_break}  Smith{line_break}{line_break}Jr")
    assert getattr(package, section).model_dump()[field] == "John Smith Jr"


def test_whitespace_around_a_name_is_stripped_before_it_is_checked():
    assert _package("prospect", "name", " John Smith\n").prospect.name == "John Smith"
    assert _package("prospect", "name", "Zoë\tDupont").prospect.name == "Zoë\tDupont"  # a tab is text


def test_notes_in_a_list_are_checked_each():
    notes = ["call after 5pm\nnot before"]
    assert ContextPackage(prospect_notes=notes).prospect_notes == notes
    with pytest.raises(ValidationError, match="control characters"):
        ContextPackage(prospect_notes=["fine", "not\x00fine"])


def _filled(fields: dict, text: str) -> dict:
    return {name: text if value is ... else value for name, value in fields.items()}


@pytest.mark.parametrize(("model", "fields", "text"), [
    (RepProfile, {"id": "sarah", "name": ...}, "Sarah\x00Chen"),
    (RepProfile, {"id": "sarah", "name": "Sarah", "expertise": ...}, "SSO\x1b[31m"),
    (ProspectAction, {"action": "note", "note": ...}, "call me\x00"),
    (RepAction, {"action": "decline", "reason": ...}, "busy\x07"),
    (ProspectFeedback, {"from": "prospect", "csat": 5, "comment": ...}, "great\x00"),
])
def test_requests_and_reps_refuse_control_characters_the_same(model, fields, text):
    with pytest.raises(ValidationError, match="control characters"):
        model.model_validate(_filled(fields, text))


@pytest.mark.parametrize(("model", "fields", "field", "text"), [
    (RepProfile, {"id": "sarah", "name": ...}, "name", "Sarah\nChen"),
    (RepProfile, {"id": "sarah", "name": "Sarah", "title": ...}, "title", "AE\r\nBcc: x@example.com"),
    (BotInfo, {"name": ...}, "name", "Ava\nBot"),
])
def test_requests_and_reps_keep_a_name_on_one_line_the_same(model, fields, field, text):
    assert "\n" not in getattr(model.model_validate(_filled(fields, text)), field)


def test_requests_and_reps_keep_line_breaks_where_text_spans_lines():
    assert ProspectAction(action="note", note="line one\nline two").note == "line one\nline two"
    assert RepProfile(id="sarah", name="Sarah", expertise="SSO\nSCIM").expertise == "SSO\nSCIM"


def test_a_validation_errors_text_carries_no_prospect_data():
    notes = [f"call Zebulon at +1-555-987-{n:04d}" for n in range(PROSPECT_NOTES_MAX + 1)]
    with pytest.raises(ValidationError) as refused:
        ContextPackage(prospect=Prospect(name="Zebulon Quartz"), prospect_notes=notes)
    assert "Zebulon" not in str(refused.value) and "555" not in str(refused.value)  # what a logged traceback shows
