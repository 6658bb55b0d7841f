"""Chinese conversations: language, routing, negation, numerals, full-width punctuation."""

from __future__ import annotations

import pytest

from domain.triggers import evaluate
from tests.domain.triggers.helpers import conversation, names, said


def test_chinese_to_an_english_bot_is_routed_and_reported():
    evaluation = evaluate(
        conversation(("prospect", "你好，请问你们有免费试用吗？"), ("bot", "Hi! Yes, we offer a 14-day free trial."))
    )
    assert evaluation.language == "zh"
    assert "language_routing" in names(evaluation)
    assert evaluation.category == "necessary"


def test_a_chinese_speaking_bot_needs_no_routing():
    evaluation = evaluate(
        conversation(("bot", "您好，请问有什么可以帮您？"), ("prospect", "你们的产品支持多语言界面吗？"))
    )
    assert evaluation.language == "zh"
    assert not evaluation.transfer


def test_the_locale_stands_for_the_bot_before_it_has_written():
    assert not said("你们支持导出报表吗？", locale="zh-CN").transfer
    assert "language_routing" in names(said("你们支持导出报表吗？", locale="en-US"))


def test_asking_for_a_chinese_speaking_rep_is_language_routing_even_in_a_chinese_channel():
    assert "language_routing" in names(said("能安排会说中文的销售吗？", locale="zh-CN"))


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        ("能不能给个折扣？", "negotiation"),
        ("可以安排一次产品演示吗？我们是做物流的。", "demo_request"),
        ("帮我转人工。", "escalation_requested"),
        ("我们法务要先看一下合同条款。", "contract_legal"),
        ("上个月重复扣费了，我要投诉。", "complaint"),
        ("我们的客户数据可能泄露了。", "sensitive_situation"),
        ("说了好几遍了，你还是没懂。", "repeated_misunderstanding"),
        ("真的很烦，问什么都答不上来。", "frustration"),
        ("你们支持私有化部署吗？", "complex_question"),
        ("我们集团想了解企业版。", "enterprise_inquiry"),
        ("预算已经批下来了，怎么付款？", "buying_signal"),
    ],
)
def test_chinese_triggers(text, trigger):
    assert trigger in names(said(text, locale="zh-CN"))


@pytest.mark.parametrize(
    "text",
    [
        "暂时不需要演示，我先自己试用一下。",
        "演示就不用了，谢谢。",
        "不用转人工，我自己看文档。",
        "我没有生气，只是想了解一下。",
        "麻烦问一下，支持导出Excel吗？",
        "不好意思，免费版有什么限制？",
        "这个功能还不错。",
        "你们的人工智能功能怎么收费？",
        "我们不需要SSO。",
    ],
)
def test_chinese_tricky_negatives(text):
    evaluation = said(text, locale="zh-CN")
    assert not evaluation.transfer, evaluation.triggers


@pytest.mark.parametrize(
    ("text", "high_value"),
    [("我们公司有三百人，想了解一下。", False), ("我们有两千多名员工。", True), ("团队规模大概1200人。", True)],
)
def test_chinese_head_counts(text, high_value):
    evaluation = said(text, locale="zh-CN")
    assert "enterprise_inquiry" in names(evaluation)
    assert ("high_value" in names(evaluation)) is high_value


def test_a_full_width_comma_ends_the_clause_a_negation_reaches():
    assert "frustration" in names(said("我不想抱怨，但是你们的服务太差了", locale="zh-CN"))


def test_a_chinese_message_trailing_off_waits():
    assert said("我们想了解一下企业版，我们公司大概有", locale="zh-CN").timing.advice == "wait"
