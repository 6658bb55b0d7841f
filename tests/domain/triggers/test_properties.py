"""evaluate() never crashes, whatever the text, and its answer is always consistent: with the rules alone and with
the meaning model we ship."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.triggers import EvaluateRequest, Evaluation, evaluate
from domain.triggers.models import TRIGGER_CATEGORY
from integrations.triggers.local import shipped_meaning

EMOJI = st.sampled_from(["😀", "🙏", "👍🏽", "🇨🇳", "❤️", "🤬", "👨‍👩‍👧"])
CONTROL = st.characters(min_codepoint=0, max_codepoint=31) | st.sampled_from(["\x7f", "\u200b", "\u202e", "\ufeff"])
CHINESE = st.sampled_from(["演示", "不", "转人工", "，", "。", "？", "三百人", "麻烦", "太贵了", "没"])
ENGLISH = st.sampled_from(["demo", "not", "talk to a real person", "refund", ",", "...", "2,000 users", "and"])
ANY_CHARACTER = st.characters(codec="utf-8")
PIECES = st.one_of(st.text(), EMOJI, CONTROL, CHINESE, ENGLISH, st.text(ANY_CHARACTER, max_size=5))
TEXT = st.lists(PIECES, max_size=30).map("".join).map(lambda text: text[:20_000])
# What the context package's text fields take (domain.context): no control character but tab and line breaks.
PLAIN_TEXT = st.text(st.characters(exclude_categories=["Cc", "Cs"]) | st.sampled_from("\t\n\r"), max_size=40)
ROLE = st.sampled_from(["prospect", "bot", "rep"])
MESSAGES = st.lists(st.fixed_dictionaries({"role": ROLE, "text": TEXT}), min_size=1, max_size=12)
KNOWN = st.fixed_dictionaries(
    {},
    optional={
        "vip": st.booleans(),
        "bot_fallbacks": st.integers(0, 10),
        "reps_available": st.none() | st.booleans(),
        "account_tier": st.text(max_size=20),
        "qualification": st.fixed_dictionaries(
            {}, optional={"score": st.integers(0, 100), "company_size": PLAIN_TEXT}
        ),
    },
)
LOCALE = st.none() | st.sampled_from(["en", "zh-CN", "zh_TW", "es-419", "", "x"])


def assert_consistent(request: EvaluateRequest, evaluation: Evaluation) -> None:
    assert evaluation.transfer is bool(evaluation.triggers)
    assert (evaluation.category is None) is (not evaluation.transfer)
    assert (evaluation.timing.advice is None) is (not evaluation.transfer)
    assert (evaluation.urgency is None) is (not evaluation.transfer)
    for hit in evaluation.triggers:
        assert hit.category == TRIGGER_CATEGORY[hit.name]
        assert 0 < hit.confidence <= 1
        for evidence in hit.evidence:
            if evidence.message_index >= 0:
                assert evidence.text in request.messages[evidence.message_index].text


def assert_evaluates_consistently(request: EvaluateRequest) -> None:
    for meaning in (None, shipped_meaning()):
        assert_consistent(request, evaluate(request, meaning=meaning))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MESSAGES, KNOWN, LOCALE)
def test_any_conversation_evaluates_consistently(messages, known, locale):
    assert_evaluates_consistently(EvaluateRequest(messages=messages, known=known, locale=locale))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PIECES, min_size=1, max_size=10).map("".join).filter(bool))
def test_a_huge_message_evaluates(piece):
    assert_evaluates_consistently(EvaluateRequest(messages=[{"role": "prospect", "text": (piece * 20_000)[:20_000]}]))


def test_the_extremes_evaluate():
    texts = ["", " ", "\x00" * 20_000, "😀" * 20_000, "不" * 20_000, "a" * 20_000, "?" * 20_000, "\u0301demo"]
    for text in texts:
        assert_evaluates_consistently(EvaluateRequest(messages=[{"role": "prospect", "text": text}] * 3))


def test_a_lone_surrogate_is_refused_at_validation_not_crashed_on():
    with pytest.raises(ValidationError, match="unicode"):
        EvaluateRequest(messages=[{"role": "prospect", "text": "\ud800 demo"}])


def test_control_characters_are_evaluated_in_messages_and_refused_in_the_known_context():
    """Messages are what the prospect typed, evaluated whatever they hold; the known facts are the context package's,
    which refuses control characters."""
    message = [{"role": "prospect", "text": "demo\x00 please\x1b"}]
    assert_evaluates_consistently(EvaluateRequest(messages=message))
    with pytest.raises(ValidationError, match="control characters"):
        EvaluateRequest(messages=message, known={"qualification": {"company_size": "300\x00"}})
