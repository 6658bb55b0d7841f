"""POST /v1/triggers/evaluate as a bot integrator first calls it: with the shared example files as they are, and
with the language model turned on (a fake OpenAI-compatible server on loopback)."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from api.routers.triggers import EXPECTED_IGNORED
from tests.e2e.conftest import METRICS_TOKEN, stack_on
from tests.fixtures import CONVERSATIONS
from tests.integrations.chat_server import MODEL, answer, error

EXAMPLES = sorted(CONVERSATIONS.glob("*.json"))
KEY = "sk-wt-e2e-0123456789"


def _example(name: str) -> dict:
    return json.loads((CONVERSATIONS / f"{name}.json").read_text(encoding="utf-8"))


async def test_the_shared_examples_are_taken_as_they_are(stack):
    assert len(EXAMPLES) == 8
    stack.rep("sarah")  # someone can take a transfer: no warning that nobody can
    async with stack.http(stack.bot_key) as bot:
        for path in EXAMPLES:
            example = json.loads(path.read_text(encoding="utf-8"))
            answer = await bot.post("/v1/triggers/evaluate", json=example)
            assert answer.status_code == 200, f"{path.name}: {answer.text}"
            body, expected = answer.json(), example["expected"]
            assert (body["transfer"], body["category"], body["timing"]["advice"]) == (
                expected["transfer"], expected["category"], expected["timing"]), path.name
            assert body["warnings"][-1] == EXPECTED_IGNORED

        without_expected = {key: value for key, value in _example("demo_enterprise").items() if key != "expected"}
        answer = await bot.post("/v1/triggers/evaluate", json=without_expected)
        assert answer.status_code == 200 and answer.json()["warnings"] == []

        twice = {**without_expected, "known": {"prospect": without_expected["prospect"]}}
        refused = await bot.post("/v1/triggers/evaluate", json=twice)
        assert refused.status_code == 422
        assert "prospect is given twice" in refused.json()["error"]["message"]


@pytest.fixture
async def model_stack(local_env, tmp_path, chat_model):
    def with_model(stack) -> None:
        stack.settings = stack.settings.model_copy(update={
            "trigger_llm_url": chat_model.url, "trigger_llm_model": MODEL, "trigger_llm_key": SecretStr(KEY)})

    async with stack_on(local_env.client, tmp_path, with_model) as running:
        yield running


async def test_the_language_model_answers_and_the_rules_stand_in(model_stack, chat_model):
    example = _example("demo_enterprise")
    chat_model.reply(answer([{"name": "demo_request", "evidence": [{"message_index": 4, "quote": "a demo"}],
                              "confidence": 0.95}], reasons=("asked for a demo, need known",)),
                     error(503, "The engine is currently overloaded, please try again later", "server_error", None))
    model_stack.rep("sarah")
    async with model_stack.http(model_stack.bot_key) as bot:
        by_model = await bot.post("/v1/triggers/evaluate", json=example)
        assert by_model.status_code == 200, by_model.text
        body = by_model.json()
        assert [hit["name"] for hit in body["triggers"]] == ["demo_request"]
        assert body["triggers"][0]["evidence"] == [{"message_index": 4, "text": "a demo"}]
        assert body["timing"] == {"advice": "now", "reasons": ["asked for a demo, need known"], "missing": []}
        assert body["warnings"] == [EXPECTED_IGNORED]

        by_rules = await bot.post("/v1/triggers/evaluate", json=example)
        assert by_rules.status_code == 200
        body = by_rules.json()
        assert {"demo_request", "enterprise_inquiry"} <= {hit["name"] for hit in body["triggers"]}
        assert body["warnings"][-2:] == [
            "the language model was unavailable (HTTP 503); the local evaluator answered", EXPECTED_IGNORED]

        scraped = (await bot.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})).text
    assert 'warm_transfer_trigger_model_answers_total{outcome="answered"} 1.0' in scraped
    assert 'warm_transfer_trigger_model_answers_total{outcome="http_error"} 1.0' in scraped

    first = chat_model.requests[0]
    assert first.headers["Authorization"] == f"Bearer {KEY}" and first.json()["model"] == MODEL
    for personal in ("John", "Smith", "john@acme.com", "Acme"):
        assert personal not in first.body.decode()
