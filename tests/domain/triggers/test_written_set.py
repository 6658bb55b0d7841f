"""The written sets (bench/triggers/written.jsonl, blind.jsonl) are well formed and as large and varied as promised.

Shape only: this never calls the evaluator, so it says nothing about accuracy.
"""

from __future__ import annotations

from collections import Counter

import pytest
from pydantic import ValidationError

from bench.triggers.sets import BLIND, LABELLED, LANGUAGES, WRITTEN, load
from domain.triggers.models import TRIGGER_CATEGORY, TRIGGER_NAMES, EvaluateRequest

SPLITS = {"train", "holdout"}
TIMINGS = {"now", "wait", "collect_first"}
CATEGORY_ORDER = ("rescue", "necessary", "positive")


CASES = load(WRITTEN)
BLIND_CASES = load(BLIND)
# Batches by id (`<lang>-<batch>-…`) and the split each may be in: w holds both, later training batches only train.
BATCH_SPLITS = {
    "written": {"w": SPLITS, "w2": {"train"}, "w3": {"train"}, "w4": {"train"}, "w5": {"train"}},
    "blind": {"h2": {"holdout"}, "h3": {"holdout"}, "h4": {"holdout"}},
}


def _triggers(case: dict) -> list[str]:
    return case["expected"]["triggers"]


def _language(case: dict) -> str | None:
    return case["expected"].get("language")


@pytest.mark.parametrize("file", ["written", "blind"])
def test_each_line_is_a_valid_request_with_a_consistent_label(file):
    problems = {}
    for case in {"written": CASES, "blind": BLIND_CASES}[file]:
        try:
            _check_line(file, case)
        except (AssertionError, ValidationError, ValueError, KeyError) as problem:
            problems[case.get("id")] = repr(problem)
    assert problems == {}


def _check_line(file: str, case: dict) -> None:
    assert set(case) <= {"id", "split", "messages", "known", "locale", "expected"}
    request = {key: value for key, value in case.items() if key not in ("id", "split", "expected")}
    EvaluateRequest.model_validate(request)
    assert any(message["role"] == "prospect" for message in case["messages"])
    assert case["split"] in SPLITS
    expected = case["expected"]
    assert set(expected) == {"transfer", "category", "triggers", "timing", "language"}
    triggers = expected["triggers"]
    assert len(set(triggers)) == len(triggers)
    assert set(triggers) <= set(TRIGGER_NAMES)
    if expected["transfer"]:
        assert triggers
        # The most urgent category of the transfer's triggers: rescue, then necessary, then positive.
        assert expected["category"] == next(c for c in CATEGORY_ORDER if c in {TRIGGER_CATEGORY[n] for n in triggers})
        assert expected["timing"] in TIMINGS
        # Collect first: an opportunity whose need is unknown, or a bare "a human, please".
        if expected["timing"] == "collect_first":
            assert expected["category"] == "positive" or triggers == ["escalation_requested"]
    else:
        assert expected["transfer"] is False
        assert triggers == []
        assert expected["category"] is None
        assert expected["timing"] is None
    assert isinstance(expected["language"], str) and len(expected["language"]) == 2
    prefix, batch, _ = case["id"].split("-", 2)
    assert prefix in (*LANGUAGES, "mix")
    assert case["split"] in BATCH_SPLITS[file][batch]


def test_ids_are_unique_across_every_file():
    ids = [case["id"] for case in CASES + BLIND_CASES]
    assert len(ids) == len(set(ids))
    assert not set(ids) & {case["id"] for case in load(LABELLED)}


def test_the_set_is_large_enough_with_six_languages_well_represented():
    assert len(CASES) >= 420
    assert len(CASES) + len(load(LABELLED)) > 600
    per_language = Counter(_language(case) for case in CASES)
    assert {lang: per_language[lang] for lang in LANGUAGES if per_language[lang] < 60} == {}
    mixed = [case for case in CASES if case["id"].startswith("mix-")]
    assert len(mixed) >= 5


def test_every_trigger_fires_often_and_in_every_language():
    overall = Counter(name for case in CASES for name in _triggers(case))
    assert {name: overall[name] for name in TRIGGER_NAMES if overall[name] < 15} == {}
    for lang in LANGUAGES:
        here = Counter(name for case in CASES if _language(case) == lang for name in _triggers(case))
        assert {name: here[name] for name in TRIGGER_NAMES if here[name] < 2} == {}, lang


def test_hard_negatives_and_timing_cases():
    negatives = sum(not case["expected"]["transfer"] for case in CASES)
    assert negatives >= 0.3 * len(CASES)
    timing = Counter(case["expected"]["timing"] for case in CASES)
    assert timing["wait"] >= 30
    assert timing["collect_first"] >= 20
    for lang in LANGUAGES:
        here = Counter(case["expected"]["timing"] for case in CASES if _language(case) == lang)
        assert here["wait"] >= 3 and here["collect_first"] >= 3, lang
        assert sum(not c["expected"]["transfer"] for c in CASES if _language(c) == lang) >= 15, lang


def test_the_holdout_is_large_and_spread_over_languages_and_triggers():
    holdout = [case for case in CASES if case["split"] == "holdout"]
    assert len(holdout) >= 130
    languages = Counter(_language(case) for case in holdout)
    assert {lang: languages[lang] for lang in LANGUAGES if languages[lang] < 15} == {}
    triggers = Counter(name for case in holdout for name in _triggers(case))
    assert {name: triggers[name] for name in TRIGGER_NAMES if triggers[name] < 2} == {}
    assert sum(not case["expected"]["transfer"] for case in holdout) >= 30
