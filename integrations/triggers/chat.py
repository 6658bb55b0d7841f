"""A language model the team already runs, through an OpenAI-compatible Chat Completions endpoint, as the trigger
evaluator; the local evaluator answers whenever the model cannot.

The model is asked for a structured answer (chat_prompt.py: what is sent, and what is not) and trusted only for what
it judges: which triggers, in which messages, how sure, and the timing. Everything else comes from us:
- evidence text is cut from our own copy of the message the model points at (where its quote is found, else the
  message's opening words); evidence pointing at a message it was not shown is dropped, and a trigger left with no
  evidence is dropped;
- the triggers the rules read off known facts (vip, account tier, bot fallbacks, qualification score, a company size
  in `known`) and language routing (the detected language against the bot's) are deterministic: they are taken from
  the local evaluator, which runs alongside, and merged in;
- category, urgency and warnings are worked out as the rules do; the language is the local evaluator's.
On a timeout, a connection error, a non-2xx status, a refusal, or an answer that is not JSON or not the schema, the
local evaluator's answer is returned, with a warning saying so (never the response's body).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

import httpx
from prometheus_client import CollectorRegistry, Counter
from pydantic import BaseModel, Field, ValidationError

from domain.triggers import EvaluateRequest, Evaluation, Evidence, Policy, Timing, TriggerHit, TriggerName
from domain.triggers.evaluator import urgency_of, warnings_for
from domain.triggers.models import TRIGGER_CATEGORY, TRIGGER_NAMES
from domain.triggers.signals import EXCERPT_CHARS
from domain.triggers.transcript import Transcript
from integrations.triggers.base import TriggerEvaluator
from integrations.triggers.chat_prompt import ModelAnswer, Quote, answer_format, conversation, instructions

log = logging.getLogger(__name__)

OUTCOMES = ("answered", "timeout", "unreachable", "http_error", "refused", "invalid")
MAX_ANSWER_BYTES = 1_048_576
LOCAL_ANSWERED = "the language model was unavailable ({why}); the local evaluator answered"
# Measured, not judged: taken whole from the local evaluator (as is any trigger's known-fact evidence, index -1).
DETERMINISTIC_TRIGGERS: frozenset[TriggerName] = frozenset({"language_routing"})


@dataclass(frozen=True)
class ChatEndpoint:
    url: str
    """The API's base URL, e.g. `https://llm.internal/v1`; requests go to `{url}/chat/completions`."""
    model: str
    key: str | None = None
    """Sent as `Authorization: Bearer <key>`; None for a server that wants none."""
    timeout: float = 3.0
    """Seconds for the whole exchange, from connecting to the last byte of the answer."""


def endpoint_url(value: str) -> str:
    """`value` as a base URL the evaluator can use: http(s), a host, no credentials, query or fragment (a key belongs
    in the Authorization header, never in a URL, where logs and proxies keep it). A ValueError otherwise."""
    try:
        url = httpx.URL(value.strip())
    except httpx.InvalidURL:
        raise ValueError("is not a URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("must be an http:// or https:// URL with a host, e.g. https://llm.internal/v1")
    if url.userinfo or url.query or url.fragment:
        raise ValueError("must have no user name, password, query or fragment: the key goes in WT_TRIGGER_LLM_KEY")
    return str(url).rstrip("/")


class ModelUnavailable(Exception):
    def __init__(self, outcome: str, why: str) -> None:
        super().__init__(why)
        self.outcome, self.why = outcome, why


class ChatModelEvaluator(TriggerEvaluator):
    def __init__(self, endpoint: ChatEndpoint, policy: Policy, fallback: TriggerEvaluator, *,
                 registry: CollectorRegistry | None = None) -> None:
        self.endpoint, self.policy, self.fallback = endpoint, policy, fallback
        self._instructions = instructions(policy)
        self._format = answer_format()
        self._completions = f"{endpoint.url.rstrip('/')}/chat/completions"
        headers = {"Authorization": f"Bearer {endpoint.key}"} if endpoint.key else {}
        self._client = httpx.AsyncClient(headers=headers, timeout=endpoint.timeout)
        self._outcomes = Counter("warm_transfer_trigger_model_answers", "Trigger evaluations asked of the language "
                                 "model, by outcome: answered, or why the local evaluator answered instead",
                                 ["outcome"], registry=registry)
        for outcome in OUTCOMES:
            self._outcomes.labels(outcome)

    async def evaluate(self, request: EvaluateRequest) -> Evaluation:
        local = asyncio.create_task(self.fallback.evaluate(request))
        try:
            answer, shown = await self._ask(request)
        except ModelUnavailable as unavailable:
            self._outcomes.labels(unavailable.outcome).inc()
            log.warning("trigger language model unavailable (%s); the local evaluator answered", unavailable.why)
            fallback = await local
            warning = LOCAL_ANSWERED.format(why=unavailable.why)
            return fallback.model_copy(update={"warnings": [*fallback.warnings, warning]})
        self._outcomes.labels("answered").inc()
        return self._evaluation(request, answer, shown, await local)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _ask(self, request: EvaluateRequest) -> tuple[ModelAnswer, set[int]]:
        content, shown = conversation(request, self.policy)
        body = {
            "model": self.endpoint.model,
            "messages": [{"role": "system", "content": self._instructions}, {"role": "user", "content": content}],
            "response_format": self._format,
            "temperature": 0,
        }
        try:
            async with asyncio.timeout(self.endpoint.timeout):
                async with self._client.stream("POST", self._completions, json=body) as response:
                    if not response.is_success:
                        raise ModelUnavailable("http_error", f"HTTP {response.status_code}")
                    raw = await _read_capped(response)
        except (TimeoutError, httpx.TimeoutException):
            raise ModelUnavailable("timeout", f"no answer within {self.endpoint.timeout:g} s") from None
        except httpx.HTTPError as error:  # the class only: a message can quote the URL
            raise ModelUnavailable("unreachable", f"cannot connect: {type(error).__name__}") from None
        return _parsed(raw), shown

    def _evaluation(self, request: EvaluateRequest, answer: ModelAnswer, shown: set[int],
                    local: Evaluation) -> Evaluation:
        keep = self.policy.settings.thresholds.evidence_per_trigger
        found: dict[TriggerName, list[TriggerHit]] = {}
        for trigger in answer.triggers:
            evidence = _located(trigger.evidence, request, shown)
            # A trigger the model cannot point at in the conversation, or gives no confidence, is not taken.
            if evidence and trigger.confidence > 0:
                found.setdefault(trigger.name, []).append(_hit(trigger.name, evidence, trigger.confidence))
        for hit in local.triggers:
            deterministic = hit.evidence if hit.name in DETERMINISTIC_TRIGGERS else [
                evidence for evidence in hit.evidence if evidence.message_index == -1]
            if deterministic:
                found.setdefault(hit.name, []).append(_hit(hit.name, deterministic, hit.confidence))
        order = self.policy.settings.categories.order
        hits = sorted((_merged(name, parts, keep) for name, parts in found.items()),
                      key=lambda hit: (order.index(hit.category), TRIGGER_NAMES.index(hit.name)))
        category = next((category for category in order if any(hit.category == category for hit in hits)), None)
        if not hits:
            timing = Timing(advice=None)
        elif answer.timing.advice is None:  # every trigger came from the rules: so does the timing
            timing = local.timing
        else:
            timing = Timing(advice=answer.timing.advice, reasons=answer.timing.reasons,
                            missing=[fact.replace("_", " ") for fact in answer.timing.missing])
        transcript = Transcript(request.messages, self.policy.settings.thresholds.scan_chars)
        return Evaluation(
            transfer=bool(hits),
            category=category,
            triggers=hits,
            urgency=urgency_of(hits, self.policy) if hits else None,
            language=local.language,
            timing=timing,
            warnings=warnings_for(request, transcript) if hits else [],
        )


class _Message(BaseModel):
    content: str | None = None
    refusal: str | None = None


class _Choice(BaseModel):
    message: _Message
    finish_reason: str | None = None


class _Completion(BaseModel):
    choices: list[_Choice] = Field(min_length=1)


async def _read_capped(response: httpx.Response) -> bytes:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            raise ModelUnavailable("invalid", "an answer over 1 MiB")
    return bytes(body)


def _parsed(raw: bytes) -> ModelAnswer:
    try:
        choice = _Completion.model_validate_json(raw).choices[0]
    except ValidationError:
        raise ModelUnavailable("invalid", "not a chat completion") from None
    if choice.message.refusal or choice.finish_reason == "content_filter":
        raise ModelUnavailable("refused", "the model refused")
    if choice.finish_reason == "length" or not choice.message.content:
        raise ModelUnavailable("invalid", "an answer cut short or empty")
    try:
        answer = ModelAnswer.model_validate_json(choice.message.content)
    except ValidationError as error:
        not_json = any(detail["type"] == "json_invalid" for detail in error.errors())
        raise ModelUnavailable("invalid", "an answer that is not JSON" if not_json else
                               "an answer that does not fit the schema") from None
    if answer.triggers and answer.timing.advice is None:
        raise ModelUnavailable("invalid", "triggers without timing advice")
    return answer


def _located(quotes: Iterable[Quote], request: EvaluateRequest, shown: set[int]) -> list[Evidence]:
    """Evidence in our words: the quoted words as our message has them, else the message's opening."""
    evidence = []
    for quote in quotes:
        if quote.message_index not in shown:
            continue
        text = request.messages[quote.message_index].text
        words = quote.quote.strip()
        match = re.search(re.escape(words), text, re.IGNORECASE) if words else None
        evidence.append(Evidence(message_index=quote.message_index, text=match[0] if match else text[:EXCERPT_CHARS]))
    return evidence


def _hit(name: TriggerName, evidence: list[Evidence], confidence: float) -> TriggerHit:
    return TriggerHit(name=name, category=TRIGGER_CATEGORY[name], evidence=evidence, confidence=confidence)


def _merged(name: TriggerName, parts: list[TriggerHit], keep: int) -> TriggerHit:
    # As the rules keep evidence: known facts (-1) first, then messages in order, the most recent `keep`.
    evidence = sorted(dict.fromkeys(item for part in parts for item in part.evidence),
                      key=lambda item: item.message_index)
    return _hit(name, evidence[-keep:], max(part.confidence for part in parts))
