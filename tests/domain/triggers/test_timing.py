"""Timing: wait while the prospect is mid-thought, collect the need first, otherwise now."""

from __future__ import annotations

import pytest

from tests.domain.triggers.helpers import said


@pytest.mark.parametrize(
    "last",
    [
        "we're currently looking at about",
        "Our main problem is that we...",
        "We use Salesforce and",
        "Let me think…",
        "The team is split across two offices,",
        "Mostly for the support team because we're",
    ],
)
def test_a_message_that_trails_off_waits(last):
    evaluation = said("We'd like a demo for our team.", last)
    assert evaluation.timing.advice == "wait"
    assert evaluation.timing.reasons


def test_even_a_frustrated_prospect_is_let_finish():
    assert said("This is so frustrating, every time I try to export and").timing.advice == "wait"


@pytest.mark.parametrize("text", ["Can I get a demo?", "Do you have an enterprise plan?"])
def test_a_bare_request_collects_the_need_first(text):
    timing = said(text).timing
    assert timing.advice == "collect_first"
    assert timing.missing == ["use case", "company size", "contact info"]


def test_only_what_is_unknown_is_missing():
    timing = said("Can I get a demo?", known={"prospect": {"email": "kim@example.com"}}).timing
    assert timing.missing == ["use case", "company size"]


@pytest.mark.parametrize(
    ("text", "known"),
    [
        ("Can I get a demo?", {"qualification": {"use_case": "outbound sales"}}),
        ("Can I get a demo?", {"qualification": {"company_size": "80 employees"}}),
        ("Can I get a demo for our support team?", {}),
        ("We're 45 people; can I get a demo?", {}),
        ("How do we get started? We're ready to buy.", {}),
    ],
)
def test_a_request_with_the_need_known_is_now(text, known):
    timing = said(text, known=known).timing
    assert timing.advice == "now"
    assert timing.missing == []


@pytest.mark.parametrize("text", ["Can I talk to a real person?", "This is useless, I want a refund."])
def test_a_human_request_or_a_rescue_is_now_even_with_nothing_known(text):
    assert said(text).timing.advice == "now"


def test_the_reasons_say_a_human_was_asked_for():
    assert "the prospect asked for a human" in said("Can I talk to a real person?").timing.reasons


def test_nothing_to_transfer_gives_no_advice():
    timing = said("Thanks, that helps.").timing
    assert timing.advice is None
    assert timing.reasons == [] and timing.missing == []
