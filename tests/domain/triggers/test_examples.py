"""The example conversations (tests/fixtures/conversations): every one must give the expected answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domain.context import Prospect
from domain.triggers import EvaluateRequest, KnownFacts, evaluate
from tests.fixtures import CONVERSATIONS

CASES = sorted(CONVERSATIONS.glob("*.json"))


def test_the_examples_are_there():
    assert len(CASES) >= 8, f"no examples found in {CONVERSATIONS}"


@pytest.mark.parametrize("path", CASES, ids=lambda path: path.stem)
def test_example(path: Path):
    example = json.loads(path.read_text(encoding="utf-8"))
    # The examples carry the prospect's details at the top level; the API takes them as known facts.
    prospect = Prospect(**example["prospect"]) if example.get("prospect") else None
    evaluation = evaluate(EvaluateRequest(messages=example["messages"], known=KnownFacts(prospect=prospect)))
    expected = example["expected"]

    assert evaluation.transfer is expected["transfer"]
    assert evaluation.category == expected["category"]
    assert evaluation.timing.advice == expected["timing"]
    assert set(expected["triggers"]) <= {hit.name for hit in evaluation.triggers}
    if "language" in expected:
        assert evaluation.language == expected["language"]
