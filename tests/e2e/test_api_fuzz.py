"""schemathesis against the real API (the stack: the app on a loopback socket, a worker, the Temporal dev server):
every operation of the OpenAPI document, requests generated from it, valid and invalid, each sent with an admin,
bot, rep, unknown or no key. Each answer must not be a server error, must have a status the document lists for
the operation, and must match the documented schema and content type.

`make test` runs WT_API_FUZZ_EXAMPLES (default 25) examples per operation and kind (valid, invalid), more than
1,000 cases, derandomized so every run is the same; `make fuzz` runs as many with a fresh seed each time."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, reject, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.conftest import ADMIN_KEY

EXAMPLES = int(os.environ.get("WT_API_FUZZ_EXAMPLES", "25"))
RANDOM = os.environ.get("WT_API_FUZZ_RANDOM") == "1"  # `make fuzz`: a new seed each run
HYPOTHESIS = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not RANDOM,
                      phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
STREAMS = {"/v1/transfers/{transfer_id}/events", "/v1/reps/me/stream"}  # server-sent events: they never end
# Operations in groups of about equal cost, each group a test of its own, so pytest-xdist runs them side by side.
GROUPS = {"transfers": ("/v1/transfers",), "reps and keys": ("/v1/reps", "/v1/api-keys"),
          "triggers and metrics": ("/v1/triggers", "/v1/metrics", "/v1/feedback", "/v1/queue", "/v1/slack", "/healthz",
                                   "/readyz"), "codec server": ("/codec",)}


@pytest.mark.parametrize("prefixes", GROUPS.values(), ids=GROUPS.keys())
async def test_every_operation_answers_as_documented(stack, prefixes):
    stack.rep("sarah", name="Sarah Chen")
    keys = [ADMIN_KEY, stack.bot_key, stack.services.keys.issue("rep", "sarah", datetime.now(UTC)),
            "wt_unknown_key", None]
    async with httpx.AsyncClient(base_url=stack.url) as anyone:  # the document as the app serves it
        schema = schemathesis.openapi.from_dict((await anyone.get("/openapi.json")).json())
    operations = [op.ok() for op in schema.get_all_operations() if op.ok().path.startswith(prefixes)]
    assert operations, f"no operation under {prefixes}"

    cases = await asyncio.to_thread(_fuzz, operations, keys, stack.url)  # the stack serves from this event loop
    print(f"schemathesis: {cases} cases for {len(operations)} operations under {', '.join(prefixes)}")
    assert cases >= len(operations)


def _fuzz(operations: list, keys: list[str | None], base_url: str) -> int:
    cases = 0
    with requests.Session() as session, httpx.Client(base_url=base_url, timeout=30) as streaming:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @HYPOTHESIS
                @given(case=operation.as_strategy(generation_mode=mode), key=st.sampled_from(keys))
                def answers_as_documented(case, key):
                    nonlocal cases
                    cases += 1
                    headers = {"Authorization": f"Bearer {key}"} if key else {}
                    if case.operation.path in STREAMS:
                        response = _opened(streaming, case, headers)
                    else:
                        response = case.call(base_url=base_url, session=session, headers=headers)
                    case.validate_response(response, checks=CHECKS)

                try:
                    answers_as_documented()
                except Unsatisfiable:
                    assert mode == GenerationMode.NEGATIVE  # an operation that takes nothing has no invalid input
    return cases


def _opened(client: httpx.Client, case, headers: dict[str, str]) -> httpx.Response:
    """An event stream's answer as far as it can be checked: its status and headers (and the body of an error).
    A stream that opened is closed at once; its events are tested in tests/e2e/test_streams.py."""
    sent = case.as_transport_kwargs(headers=headers)
    try:
        with client.stream(sent["method"], sent["url"], params=sent.get("params"), headers=sent["headers"],
                           cookies=sent.get("cookies")) as streamed:
            body = b"" if streamed.status_code == 200 else streamed.read()
    except httpx.LocalProtocolError:  # a header HTTP does not allow (a value ending in a space): nothing to send
        reject()
    answer = httpx.Response(streamed.status_code, headers=streamed.headers, content=body, request=streamed.request)
    answer.elapsed = streamed.elapsed
    return answer
