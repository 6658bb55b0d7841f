"""The benchmark's labelled set stays usable, and the evaluator stays accurate on it."""

from __future__ import annotations

from collections import Counter

from bench.triggers.accuracy import score
from bench.triggers.sets import LABELLED, load, request_of
from domain.triggers import evaluate
from domain.triggers.models import TRIGGER_NAMES

CASES = load(LABELLED)


def test_the_set_is_large_bilingual_and_covers_every_trigger_twice():
    assert len(CASES) >= 60
    assert (
        sum(case.get("locale", "").startswith("zh") or case["expected"].get("language") == "zh" for case in CASES) >= 20
    )
    positives = Counter(name for case in CASES for name in case["expected"]["triggers"])
    assert {name: positives[name] for name in TRIGGER_NAMES if positives[name] < 2} == {}
    assert sum(not case["expected"]["transfer"] for case in CASES) >= 15


def test_every_case_is_a_valid_request_with_a_consistent_label():
    for case in CASES:
        request_of(case)
        expected = case["expected"]
        assert expected["transfer"] is bool(expected["triggers"]), case["id"]
        assert (expected["category"] is None) is (not expected["transfer"]), case["id"]


def test_accuracy_does_not_regress():
    results = score(CASES, [evaluate(request_of(case)) for case in CASES])
    assert results["category"] >= 0.9
    assert results["timing"] >= 0.9
    assert results["micro"]["precision"] >= 0.9
