"""evaluate(): signals beyond phrases, the shape of the answer, category, urgency, warnings, limits."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.triggers import EvaluateRequest, evaluate
from domain.triggers.evaluator import NO_REP_WARNING, REP_PRESENT_WARNING
from tests.domain.triggers.helpers import conversation, names, said

LOOP_ANSWER = "You can invite teammates from Settings > Members."


def test_nothing_fires_for_small_talk():
    evaluation = said("Do you have a free trial?", "Cool thanks, I'll try it out.")
    assert evaluation.model_dump() == {
        "transfer": False,
        "category": None,
        "triggers": [],
        "urgency": None,
        "language": "en",
        "timing": {"advice": None, "reasons": [], "missing": []},
        "warnings": [],
    }


def test_the_bot_repeating_itself_is_a_misunderstanding_loop():
    evaluation = evaluate(
        conversation(
            ("prospect", "How do I change the workspace owner?"),
            ("bot", LOOP_ANSWER),
            ("prospect", "Not invite, change the owner."),
            ("bot", LOOP_ANSWER),
            ("prospect", "Transfer ownership!"),
            ("bot", LOOP_ANSWER + " "),
        )
    )
    hit = next(hit for hit in evaluation.triggers if hit.name == "repeated_misunderstanding")
    assert [evidence.message_index for evidence in hit.evidence] == [3, 5]
    assert evaluation.category == "rescue"


def test_one_repeat_alone_is_not_yet_a_loop():
    evaluation = evaluate(conversation(("bot", LOOP_ANSWER), ("prospect", "ok"), ("bot", LOOP_ANSWER)))
    assert "repeated_misunderstanding" not in names(evaluation)


def test_short_repeated_pleasantries_are_not_a_loop():
    evaluation = evaluate(conversation(("bot", "Great!"), ("prospect", "ok"), ("bot", "Great!"), ("bot", "Great!")))
    assert not evaluation.transfer


@pytest.mark.parametrize(("fallbacks", "fires"), [(1, False), (2, True)])
def test_bot_fallbacks_from_the_known_facts(fallbacks, fires):
    evaluation = said("What's new?", known={"bot_fallbacks": fallbacks})
    assert ("bot_cannot_answer" in names(evaluation)) is fires


def test_the_bot_saying_it_does_not_know():
    evaluation = evaluate(
        conversation(("prospect", "Does it export to SAP?"), ("bot", "I'm sorry, I don't have that information."))
    )
    hit = evaluation.triggers[0]
    assert (hit.name, hit.evidence[0].message_index, hit.evidence[0].text) == (
        "bot_cannot_answer",
        1,
        "I don't have that information",
    )


def test_a_vip_is_a_rescue_with_the_fact_as_evidence():
    evaluation = said("When does the new dashboard ship?", known={"vip": True})
    hit = evaluation.triggers[0]
    assert (hit.name, hit.category, hit.confidence) == ("vip_account", "rescue", 1.0)
    assert hit.evidence[0].message_index == -1


def test_a_strategic_account_tier_is_vip_whatever_its_case():
    assert "vip_account" in names(said("Hello", known={"account_tier": "STRATEGIC"}))
    assert "vip_account" not in names(said("Hello", known={"account_tier": "starter"}))


@pytest.mark.parametrize(("score", "fires"), [(74, False), (75, True)])
def test_a_qualification_score_at_the_threshold_is_high_value(score, fires):
    assert ("high_value" in names(said("Hello", known={"qualification": {"score": score}}))) is fires


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We're about 50 employees.", set()),
        ("We're a 250-seat team.", {"enterprise_inquiry"}),
        ("Our company has 2,000 employees.", {"enterprise_inquiry", "high_value"}),
        ("We'd roll it out to 1.5k users.", {"enterprise_inquiry", "high_value"}),
    ],
)
def test_company_size_in_the_conversation(text, expected):
    assert names(said(text)) & {"enterprise_inquiry", "high_value"} == expected


def test_company_size_written_by_the_bot_is_not_the_prospects():
    evaluation = evaluate(conversation(("bot", "Our enterprise plan starts at 300 seats."), ("prospect", "OK")))
    assert not evaluation.transfer


def test_a_prospect_in_another_language_is_routed():
    evaluation = said("Hola, ¿tienen un plan para equipos pequeños de diez personas?", locale="en-US")
    assert evaluation.language == "es"
    assert "language_routing" in names(evaluation)


def test_a_bot_already_speaking_the_language_needs_no_routing():
    evaluation = evaluate(
        conversation(
            ("bot", "¡Hola! ¿En qué puedo ayudarte hoy?"),
            ("prospect", "Quiero saber si tienen una prueba gratuita para equipos pequeños."),
        )
    )
    assert evaluation.language == "es"
    assert not evaluation.transfer


def test_many_questions_at_once_need_an_expert():
    evaluation = said(
        "How do you handle deletion requests from end users? Where exactly are backups stored? "
        "What happens to all of our data if we cancel?"
    )
    assert "complex_question" in names(evaluation)


@pytest.mark.parametrize(
    ("texts", "category"),
    [
        (["Can we book a demo? This bot is useless."], "rescue"),
        (["Can we book a demo? Our legal team needs the MSA first."], "necessary"),
        (["We'd like a demo for our 40-person team."], "positive"),
    ],
)
def test_the_most_pressing_category_wins(texts, category):
    evaluation = said(*texts)
    assert evaluation.category == category
    assert evaluation.triggers[0].category == category


@pytest.mark.parametrize(
    ("text", "urgency"),
    [
        ("We'd like a demo for our 40-person team.", "normal"),
        ("Can I talk to a real person?", "high"),
        ("Our account was hacked and data leaked.", "critical"),
    ],
)
def test_urgency_bands(text, urgency):
    assert said(text).urgency == urgency


def test_evidence_quotes_the_prospects_own_words():
    hit = said("Ok. Can I just talk to a REAL PERSON please?").triggers[0]
    assert hit.evidence[0].text == "talk to a REAL PERSON"


def test_more_evidence_raises_confidence_and_keeps_the_latest():
    one = said("This is frustrating.").triggers[0]
    many = said(*["This is frustrating."] * 8).triggers[0]
    assert one.confidence < many.confidence <= 1
    assert [evidence.message_index for evidence in many.evidence] == [3, 4, 5, 6, 7]


def test_no_rep_available_is_a_warning():
    assert said("Can I talk to a real person?", known={"reps_available": False}).warnings == [NO_REP_WARNING]
    assert said("Can I talk to a real person?", known={"reps_available": None}).warnings == []


def test_a_rep_already_in_the_conversation_is_a_warning():
    evaluation = evaluate(conversation(("rep", "Hi, I'm Sarah."), ("prospect", "Can I get a refund?")))
    assert evaluation.warnings == [REP_PRESENT_WARNING]


def test_only_the_latest_text_is_read():
    filler = "Tell me more about the product. " * 600
    evaluation = said("I want a refund.", filler[:20_000], filler[:20_000], filler[:20_000])
    assert "complaint" not in names(evaluation)


@pytest.mark.parametrize(
    "request_",
    [
        {"messages": []},
        {"messages": [{"role": "prospect", "text": "x"}] * 501},
        {"messages": [{"role": "prospect", "text": "x" * 20_001}]},
        {"messages": [{"role": "customer", "text": "hi"}]},
        {"messages": [{"role": "prospect", "text": "hi", "sentiment": "happy"}]},
        {"messages": [{"role": "prospect", "text": "hi"}], "known": {"vip": True, "tier": "gold"}},
    ],
)
def test_bad_requests_are_refused(request_):
    with pytest.raises(ValidationError):
        EvaluateRequest.model_validate(request_)
