"""The language-model trigger evaluator against a fake OpenAI-compatible server on loopback (chat_server.py), in the
real request and response shapes: what it sends, what it takes from the answer, and every way it falls back."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from config import Settings
from domain.triggers import EvaluateRequest, load_policy
from domain.triggers.models import TRIGGER_NAMES
from integrations.triggers.chat import ChatEndpoint, ChatModelEvaluator, endpoint_url
from integrations.triggers.chat_prompt import ModelAnswer, conversation
from integrations.triggers.factory import build_evaluator
from integrations.triggers.local import LocalEvaluator
from tests.conftest import free_port
from tests.domain.triggers.test_properties import KNOWN, MESSAGES, TEXT, assert_consistent
from tests.fixtures import CONVERSATIONS
from tests.integrations.chat_server import HANG, MODEL, ChatServer, Reply, answer, completion, error

KEY = "sk-wt-test-0123456789"
POLICY = load_policy()
LOCAL = LocalEvaluator(POLICY, None)
ASKED = "the language model was unavailable"


def example(name: str, **known: object) -> EvaluateRequest:
    """An example conversation, with its top-level prospect as known.prospect (as the API takes it)."""
    raw = json.loads((CONVERSATIONS / f"{name}.json").read_text(encoding="utf-8"))
    return EvaluateRequest(messages=raw["messages"], known={"prospect": raw.get("prospect"), **known})


def trigger(name: str, *evidence: tuple[int, str], confidence: float = 0.9) -> dict:
    return {"name": name, "evidence": [{"message_index": index, "quote": quote} for index, quote in evidence],
            "confidence": confidence}


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
async def model(chat_model: ChatServer, registry: CollectorRegistry) -> AsyncIterator[ChatModelEvaluator]:
    evaluator = ChatModelEvaluator(ChatEndpoint(chat_model.url, MODEL, KEY, timeout=5), POLICY, fallback=LOCAL,
                                   registry=registry)
    yield evaluator
    await evaluator.aclose()


def outcomes(registry: CollectorRegistry) -> dict[str, float]:
    return {outcome: value for outcome in ("answered", "timeout", "unreachable", "http_error", "refused", "invalid")
            if (value := registry.get_sample_value("warm_transfer_trigger_model_answers_total",
                                                   {"outcome": outcome}))}


@pytest.mark.parametrize("written", ["+1 555 0100", "+15550100", "1-555-0100", "(555) 0100", "555.0100", "555 - 0100"])
def test_the_known_phone_is_withheld_however_it_is_written(written):
    request = EvaluateRequest(messages=[{"role": "prospect", "text": f"Call me on {written} after five."}],
                              known={"prospect": {"phone": "+1-555-0100"}})
    sent = json.loads(conversation(request, POLICY)[0])["messages"][0]["text"]
    assert "[phone]" in sent and "555" not in sent and "0100" not in sent


@pytest.mark.parametrize("other", ["order 45550100", "ticket 55501001", "+44 20 7946 0958", "call 555 0199"])
def test_other_numbers_are_sent_as_written(other):
    request = EvaluateRequest(messages=[{"role": "prospect", "text": other}],
                              known={"prospect": {"phone": "+1 555 0100"}})
    assert json.loads(conversation(request, POLICY)[0])["messages"][0]["text"] == other


async def test_asks_the_model_in_the_real_shape_and_withholds_who_the_prospect_is(model, chat_model):
    request = EvaluateRequest(
        messages=[{"role": "prospect", "text": "Hi, John Smith here (john@acme.com, +1 415 555 0100)."},
                  {"role": "bot", "text": "Hello John! How can I help?"},
                  {"role": "prospect", "text": "We are 300 people in sales. Can we get a demo this week?"}],
        known={"prospect": {"name": "John Smith", "email": "john@acme.com", "phone": "+1 415 555 0100",
                            "company": "Acme Corp"},
               "qualification": {"score": 60, "use_case": "sales pipeline"}, "account_tier": "gold",
               "bot_fallbacks": 1, "reps_available": True},
        locale="en-US")
    chat_model.reply(answer([trigger("demo_request", (2, "a demo"))]))

    await model.evaluate(request)

    [received] = chat_model.requests
    assert received.path == "/v1/chat/completions"
    assert received.headers["Authorization"] == f"Bearer {KEY}"
    body = received.json()
    assert body["model"] == MODEL and body["temperature"] == 0
    assert body["response_format"] == {"type": "json_schema", "json_schema": {
        "name": "transfer_evaluation", "strict": True, "schema": ModelAnswer.model_json_schema()}}
    system, user = body["messages"]
    assert system["role"] == "system" and "escalation_requested" in system["content"]
    assert user["role"] == "user"
    sent = json.loads(user["content"])
    assert [message["index"] for message in sent["messages"]] == [0, 1, 2]
    assert sent["messages"][0]["text"] == "Hi, [name] here ([email], [phone])."
    assert sent["messages"][1]["text"] == "Hello [name]! How can I help?"
    assert sent["known"] == {"qualification": {"score": 60, "use_case": "sales pipeline"}, "contact_info_known": True,
                             "vip": False, "account_tier": "gold", "bot_fallbacks": 1, "reps_available": True,
                             "locale": "en-US"}
    for personal in ("John", "Smith", "john@acme.com", "555 0100", "Acme"):
        assert personal not in received.body.decode()


async def test_the_answer_is_the_models_with_evidence_in_our_own_words(model, chat_model, registry):
    request = example("demo_enterprise")
    chat_model.reply(answer([trigger("demo_request", (4, "SET UP A DEMO")),
                             trigger("enterprise_inquiry", (0, "enterprise plan"), (2, "words it made up"))],
                            reasons=("the prospect asked for a demo with the need known",)))

    evaluation = await model.evaluate(request)

    assert evaluation.transfer is True and evaluation.category == "positive"
    assert [hit.name for hit in evaluation.triggers] == ["demo_request", "enterprise_inquiry"]
    demo, enterprise = evaluation.triggers
    assert [(item.message_index, item.text) for item in demo.evidence] == [(4, "set up a demo")]
    assert demo.confidence == 0.9
    # A quote not in the message is not shown: the message's own opening is.
    assert [(item.message_index, item.text) for item in enterprise.evidence] == [
        (0, "enterprise plan"), (2, "Around 500 users, we want to roll out in Q2. We use Salesforce heavily.")]
    assert evaluation.timing.advice == "now"
    assert evaluation.timing.reasons == ["the prospect asked for a demo with the need known"]
    assert evaluation.urgency == "normal"  # demo 50 + 5 for a second trigger, as the rules score it
    assert evaluation.language == "en" and evaluation.warnings == []
    assert outcomes(registry) == {"answered": 1}


async def test_category_and_urgency_follow_the_rules_order_and_scores(model, chat_model):
    request = EvaluateRequest(messages=[
        {"role": "prospect", "text": "Sorry for the slow replies, my father passed away last week."},
        {"role": "bot", "text": "I'm so sorry to hear that."},
        {"role": "prospect", "text": "Thanks. Where would I send the PO once finance signs off, and"}])
    chat_model.reply(answer([trigger("sensitive_situation", (0, "my father passed away")),
                             trigger("buying_signal", (2, "Where would I send the PO"))],
                            advice="wait", reasons=("the last message trails off",)))

    evaluation = await model.evaluate(request)

    assert evaluation.category == "rescue" and evaluation.urgency == "critical"
    assert [hit.name for hit in evaluation.triggers] == ["sensitive_situation", "buying_signal"]
    assert evaluation.timing.advice == "wait"


async def test_evidence_outside_the_conversation_is_dropped_and_so_is_a_trigger_left_without(model, chat_model,
                                                                                            registry):
    request = example("asks_for_human")  # three messages: 0, 1, 2
    chat_model.reply(answer([trigger("escalation_requested", (2, "real person"), (7, "real person"), (-1, "x")),
                             trigger("complaint", (3, "nothing"), (-5, "nothing")),
                             trigger("vip_account")],  # no evidence, and known.vip is false
                            advice="collect_first", missing=("use_case", "contact_info")))

    evaluation = await model.evaluate(request)

    assert [hit.name for hit in evaluation.triggers] == ["escalation_requested"]
    assert [(item.message_index, item.text) for item in evaluation.triggers[0].evidence] == [(2, "real person")]
    assert evaluation.category == "necessary"
    assert evaluation.timing.advice == "collect_first"
    assert evaluation.timing.missing == ["use case", "contact info"]
    assert evaluation.warnings == []
    assert outcomes(registry) == {"answered": 1}


async def test_the_rules_known_fact_and_language_triggers_are_merged_in(model, chat_model):
    request = example("chinese_language_routing", vip=True, qualification={"score": 90}, bot_fallbacks=3)
    chat_model.reply(answer([trigger("demo_request", (0, "演示"), confidence=0.6),
                             trigger("high_value", (0, "我们公司"), confidence=0.5)]))

    evaluation = await model.evaluate(request)

    by_name = {hit.name: hit for hit in evaluation.triggers}
    assert set(by_name) == {"vip_account", "bot_cannot_answer", "language_routing", "high_value", "demo_request"}
    assert [hit.name for hit in evaluation.triggers] == [
        "vip_account", "bot_cannot_answer", "language_routing", "high_value", "demo_request"]
    assert [item.text for item in by_name["vip_account"].evidence] == ["known.vip: True"]
    assert [item.message_index for item in by_name["high_value"].evidence] == [-1, 0]
    assert by_name["high_value"].confidence == 1.0  # the rules are certain of a known score
    assert evaluation.category == "rescue" and evaluation.language == "zh"
    local = await LOCAL.evaluate(request)
    assert {hit.name: hit.evidence for hit in local.triggers}["language_routing"] == \
        by_name["language_routing"].evidence


async def test_known_facts_alone_take_the_rules_timing(model, chat_model):
    request = example("just_browsing", vip=True)
    chat_model.reply(answer([], advice=None))

    evaluation = await model.evaluate(request)

    assert [hit.name for hit in evaluation.triggers] == ["vip_account"]
    assert evaluation.timing == (await LOCAL.evaluate(request)).timing


async def test_no_trigger_no_transfer(model, chat_model):
    request = example("just_browsing")
    chat_model.reply(answer([], advice=None))

    evaluation = await model.evaluate(request)

    assert evaluation.transfer is False and evaluation.category is None and evaluation.urgency is None
    assert evaluation.timing.advice is None and evaluation.warnings == []


QUOTES = st.fixed_dictionaries({"message_index": st.integers(-2, 14), "quote": TEXT})
TRIGGERS = st.lists(st.fixed_dictionaries({"name": st.sampled_from(TRIGGER_NAMES), "evidence": st.lists(QUOTES),
                                           "confidence": st.floats(0, 1)}), max_size=5)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(messages=MESSAGES, known=KNOWN, triggers=TRIGGERS, advice=st.sampled_from(["now", "wait", "collect_first",
                                                                                None]))
async def test_any_conversation_and_any_answer_in_the_schema_give_a_consistent_answer(
        model, chat_model, messages, known, triggers, advice):
    request = EvaluateRequest(messages=messages, known=known)
    chat_model.reply(answer(triggers, advice=advice))
    evaluation = await model.evaluate(request)
    assert_consistent(request, evaluation)
    fell_back = any(warning.startswith(ASKED) for warning in evaluation.warnings)
    assert fell_back is bool(triggers and advice is None)


FALLBACKS = {
    "server error": (error(500, "The server had an error while processing your request (req_9f2)", "server_error",
                           None), "http_error", "HTTP 500"),
    "rate limited": (error(429, "Rate limit reached for wt-test-model on tokens per min", "requests",
                           "rate_limit_exceeded"), "http_error", "HTTP 429"),
    "bad key": (error(401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key"), "http_error",
                "HTTP 401"),
    "not a completion": (Reply(200, b"<html>Bad gateway</html>"), "invalid",
                         "not a chat completion"),
    "garbage json": (completion('{"triggers": [{"name": "demo_req'), "invalid", "not JSON"),
    "wrong schema": (completion(json.dumps({"triggers": [{"name": "demo", "evidence": [], "confidence": 2}],
                                            "timing": {"advice": "soon", "reasons": [], "missing": []}})),
                     "invalid", "does not fit the schema"),
    "extra field": (completion(json.dumps({"triggers": [], "timing": {"advice": None, "reasons": [], "missing": []},
                                           "transfer": True})), "invalid", "does not fit the schema"),
    "refusal": (completion(None, refusal="I'm sorry, I can't help with that request."), "refused", "refused"),
    "content filter": (completion(None, finish_reason="content_filter"), "refused", "refused"),
    "cut short": (completion('{"triggers": [', finish_reason="length"), "invalid", "cut short"),
    "triggers without timing": (answer([trigger("demo_request", (4, "demo"))], advice=None), "invalid",
                                "without timing advice"),
}


@pytest.mark.parametrize("reply, outcome, why", FALLBACKS.values(), ids=FALLBACKS.keys())
async def test_falls_back_on_the_local_evaluator(model, chat_model, registry, caplog, reply, outcome, why):
    request = example("frustrated_loop")
    chat_model.reply(reply)

    with caplog.at_level(logging.DEBUG):
        evaluation = await model.evaluate(request)

    local = await LOCAL.evaluate(request)
    *kept, warning = evaluation.warnings
    assert evaluation.model_copy(update={"warnings": kept}) == local
    assert warning.startswith(ASKED) and why in warning and warning.endswith("the local evaluator answered")
    assert outcomes(registry) == {outcome: 1}
    # Nothing of the answer's body, the key or the conversation in the warning or the log.
    for secret in (KEY, "req_9f2", "Rate limit", "Incorrect API key", "Bad gateway", "can't help", "demo_req",
                   request.messages[0].text):
        assert secret not in warning and secret not in caplog.text
    assert why in caplog.text


async def test_falls_back_when_the_model_takes_too_long(chat_model, registry):
    chat_model.reply(HANG)
    model = ChatModelEvaluator(ChatEndpoint(chat_model.url, MODEL, KEY, timeout=0.2), POLICY, fallback=LOCAL,
                               registry=registry)
    request = example("contract_legal")

    evaluation = await model.evaluate(request)
    await model.aclose()

    assert evaluation.warnings[-1] == f"{ASKED} (no answer within 0.2 s); the local evaluator answered"
    assert evaluation.triggers == (await LOCAL.evaluate(request)).triggers
    assert outcomes(registry) == {"timeout": 1}


async def test_falls_back_when_nothing_listens(registry):
    model = ChatModelEvaluator(ChatEndpoint(f"http://127.0.0.1:{free_port()}/v1", MODEL), POLICY, fallback=LOCAL,
                               registry=registry)
    request = example("asks_for_human")

    evaluation = await model.evaluate(request)
    await model.aclose()

    assert evaluation.warnings[-1] == f"{ASKED} (cannot connect: ConnectError); the local evaluator answered"
    assert evaluation.transfer is True
    assert outcomes(registry) == {"unreachable": 1}


async def test_no_key_no_authorization_header(chat_model):
    model = ChatModelEvaluator(ChatEndpoint(chat_model.url + "/", MODEL), POLICY, fallback=LOCAL)
    await model.evaluate(example("asks_for_human"))
    await model.aclose()
    [received] = chat_model.requests
    assert received.path == "/v1/chat/completions"
    assert "Authorization" not in received.headers


def test_the_factory_picks_the_model_only_when_configured():
    assert isinstance(build_evaluator(POLICY, None), LocalEvaluator)
    chosen = build_evaluator(POLICY, None, ChatEndpoint("https://llm.internal/v1", MODEL))
    assert isinstance(chosen, ChatModelEvaluator) and isinstance(chosen.fallback, LocalEvaluator)


@pytest.mark.parametrize("url", ["https://llm.internal/v1", "http://10.0.0.7:8080/v1/", "https://api.example.com"])
def test_endpoint_urls_taken(url):
    assert endpoint_url(url) == url.rstrip("/")


@pytest.mark.parametrize("url", ["ftp://llm.internal/v1", "llm.internal/v1", "https:///v1",
                                 "https://user:sk-secret@llm.internal/v1", "https://llm.internal/v1?api_key=sk-secret",
                                 "https://llm.internal/v1#frag"])
def test_endpoint_urls_refused(url):
    with pytest.raises(ValueError):
        endpoint_url(url)


def test_settings_check_the_model_settings(monkeypatch):
    with pytest.raises(ValidationError, match="WT_TRIGGER_LLM_MODEL"):
        Settings(trigger_llm_url="https://llm.internal/v1")
    with pytest.raises(ValidationError, match="no user name, password, query") as refused:
        Settings(trigger_llm_url="https://llm.internal/v1?key=sk-secret-in-url", trigger_llm_model=MODEL)
    assert "sk-secret-in-url" not in str(refused.value.errors(include_input=False))
    monkeypatch.setenv("WT_TRIGGER_LLM_KEY", KEY)
    settings = Settings(trigger_llm_url="https://llm.internal/v1/", trigger_llm_model=MODEL)
    assert settings.trigger_llm_url == "https://llm.internal/v1" and settings.trigger_llm_timeout == 3.0
    assert KEY not in repr(settings) and settings.trigger_llm_key.get_secret_value() == KEY
