"""Negation and tricky negatives: words that look like a trigger but say the opposite."""

from __future__ import annotations

import pytest

from tests.domain.triggers.helpers import names, said


@pytest.mark.parametrize(
    "text",
    [
        "I'm not frustrated, just curious how the plans differ.",
        "No need for a demo right now, I'll explore on my own.",
        "I don't want to talk to a person, just tell me the price.",
        "I'd rather not talk to a salesperson.",
        "We're not ready to buy yet, only comparing options.",
        "We don't need SSO, it's just me.",
        "Can't wait to try the new dashboard!",
        "Our team uses it daily, no complaints so far.",
        "Don't escalate this, it's not urgent.",
        "A demo isn't necessary for us.",
        "The setup was not frustrating at all.",
        "Is there a recorded demo video I can watch?",
    ],
)
def test_a_tricky_negative_does_not_transfer(text):
    evaluation = said(text)
    assert not evaluation.transfer, evaluation.triggers
    assert evaluation.category is None
    assert evaluation.timing.advice is None


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        ("Can't I just talk to a real person?", "escalation_requested"),
        ("Isn't there someone I can talk to?", "escalation_requested"),
        ("Why can't I speak to a human?", "escalation_requested"),
        ("No, I want a demo.", "demo_request"),
        ("I don't get the pricing page, can you connect me with sales?", "escalation_requested"),
        ("I don't mind the price, but this is frustrating.", "frustration"),
        ("That's not helpful.", "frustration"),
        ("I'm not happy with the service.", "complaint"),
    ],
)
def test_a_negation_elsewhere_does_not_cancel_the_trigger(text, trigger):
    assert trigger in names(said(text))


def test_a_negation_only_reaches_a_few_words_back():
    assert "demo_request" in names(said("We never used a tool like this before and would like to book a demo"))
