"""Accuracy of the trigger evaluator on the labelled conversations, per split and language, and its speed.

Run from the repo root: `.venv/bin/python -m bench.triggers.accuracy`. Prints the tables and writes
bench/results/triggers.json. Two evaluators are measured: the policy's rules alone, and the rules weighed by the
meaning model (what the API answers with). `expected.triggers` lists every trigger that should fire, so
precision is measured as well as recall. The `holdout` figures are the honest ones: no rule was tuned and no
model trained or chosen on those conversations (sets.py).

Goals, on the holdouts (blind.jsonl, the honest one; written.jsonl's), per language: transfer F1 >= 0.92 and
false transfers <= 5% of the conversations that should not transfer; category right on >= 90% of those that
should; timing right on >= 85% of those that should; every trigger's recall >= 0.85.
"""

from __future__ import annotations

import json
import resource
import statistics
import time
from pathlib import Path
from typing import Any

from bench.triggers.sets import LANGUAGES, Case, every_case, request_of
from domain.triggers import EvaluateRequest, Evaluation, Message, evaluate, load_policy
from domain.triggers.meaning import Meaning, MeaningModel
from domain.triggers.models import TRIGGER_NAMES
from integrations.triggers.encoder import UniversalSentenceEncoder

RESULTS = Path(__file__).resolve().parents[1] / "results" / "triggers.json"
TIMING_RUNS = 300
# (file, split, batch or every batch): blind.jsonl's batches apart too, each written later than the one before.
GROUPS = (
    ("blind", "holdout", None), ("blind", "holdout", "h4"), ("blind", "holdout", "h3"), ("blind", "holdout", "h2"),
    ("written", "holdout", None), ("written", "train", None), ("labelled", "holdout", None), ("labelled", "dev", None),
)
GOALS = {"transfer_f1": 0.92, "false_transfers": 0.05, "category": 0.9, "timing": 0.85, "trigger_recall": 0.85}


def score(cases: list[Case], evaluations: list[Evaluation]) -> dict[str, Any]:
    """Every measure of one group of conversations."""
    counts = {name: {"tp": 0, "fp": 0, "fn": 0} for name in TRIGGER_NAMES}
    decisions = {"tp": 0, "fp": 0, "fn": 0, "negatives": 0}
    right = {"transfer": 0, "category": 0, "timing": 0, "language": 0}
    language_cases = 0
    mistakes = []
    for case, evaluation in zip(cases, evaluations, strict=True):
        expected = case["expected"]
        wanted, found = set(expected["triggers"]), {hit.name for hit in evaluation.triggers}
        for name in TRIGGER_NAMES:
            key = {(True, True): "tp", (False, True): "fp", (True, False): "fn"}.get((name in wanted, name in found))
            if key:
                counts[name][key] += 1
        key = {(True, True): "tp", (False, True): "fp", (True, False): "fn"}.get(
            (expected["transfer"], evaluation.transfer))
        if key:
            decisions[key] += 1
        decisions["negatives"] += not expected["transfer"]
        got = {
            "transfer": evaluation.transfer,
            "category": evaluation.category,
            "timing": evaluation.timing.advice,
            "language": evaluation.language,
        }
        right["transfer"] += got["transfer"] == expected["transfer"]
        right["category"] += expected["transfer"] and got["category"] == expected["category"]
        right["timing"] += expected["transfer"] and got["timing"] == expected["timing"]
        if "language" in expected:
            language_cases += 1
            right["language"] += got["language"] == expected["language"]
        wrong = {key: (expected[key], got[key]) for key in got if key in expected and expected[key] != got[key]}
        if wrong or wanted != found:
            mistakes.append(
                {"id": case["id"], **wrong, "missed": sorted(wanted - found), "extra": sorted(found - wanted)}
            )
    total, transferring = len(cases), sum(case["expected"]["transfer"] for case in cases)
    tp, fp, fn = decisions["tp"], decisions["fp"], decisions["fn"]
    return {
        "conversations": total,
        "transfer_accuracy": _share(right["transfer"], total),
        "transfer_f1": _share(2 * tp, 2 * tp + fp + fn),
        "false_transfers": _share(fp, decisions["negatives"]),
        "category": _share(right["category"], transferring),
        "timing": _share(right["timing"], transferring),
        "language_accuracy": _share(right["language"], language_cases),
        "micro": _precision_recall(**{key: sum(count[key] for count in counts.values()) for key in ("tp", "fp", "fn")}),
        "per_trigger": {name: _precision_recall(**count) for name, count in counts.items()},
        "mistakes": mistakes,
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _precision_recall(tp: int, fp: int, fn: int) -> dict[str, Any]:
    return {"support": tp + fn, "precision": _share(tp, tp + fp), "recall": _share(tp, tp + fn)}


def by_language(cases: list[Case], evaluations: list[Evaluation]) -> dict[str, dict[str, Any]]:
    pairs = list(zip(cases, evaluations, strict=True))
    groups = {"all": pairs} | {
        language: chosen for language in (*LANGUAGES, "other")
        if (chosen := [(case, evaluation) for case, evaluation in pairs if case["lang"] == language])
    }
    return {name: score([case for case, _ in chosen], [evaluation for _, evaluation in chosen])
            for name, chosen in groups.items()}


def score_by_language(cases: list[Case], evaluations: list[Evaluation]) -> str:
    """A printable table: the goals' measures per language, then each trigger's recall and precision."""
    scores = by_language(cases, evaluations)
    lines = ["| language | conversations | transfer F1 | false transfers | category | timing | triggers P / R |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for language, row in scores.items():
        micro = row["micro"]
        lines.append(f"| {language} | {row['conversations']} | {_figure(row['transfer_f1'])} | "
                     f"{_figure(row['false_transfers'])} | {_figure(row['category'])} | {_figure(row['timing'])} | "
                     f"{_figure(micro['precision'])} / {_figure(micro['recall'])} |")
    lines += ["", "| trigger | support | precision | recall |", "|---|---:|---:|---:|"]
    for name, row in scores["all"]["per_trigger"].items():
        lines.append(f"| `{name}` | {row['support']} | {_figure(row['precision'])} | {_figure(row['recall'])} |")
    return "\n".join(lines)


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def typical_conversation() -> EvaluateRequest:
    """20 messages, both sides, a few triggers: what a bot sends mid-conversation."""
    turns = [
        ("prospect", "Hi, we're looking at tools for our sales team."),
        ("bot", "Great! How many people are on the team?"),
        ("prospect", "About 120 reps across three regional offices."),
        ("bot", "Thanks. Which CRM do you use today?"),
        ("prospect", "Salesforce, and we'd need SSO with Okta."),
        ("bot", "We support SAML SSO with Okta and Azure AD."),
        ("prospect", "How does the Salesforce sync handle custom objects?"),
        ("bot", "Custom objects sync both ways every five minutes."),
        ("prospect", "What about historical data from our old tool?"),
        ("bot", "You can import CSV exports of past activity."),
        ("prospect", "OK. Is there an API rate limit we should know about?"),
        ("bot", "The API allows 100 requests per second per workspace."),
        ("prospect", "Good. What does pricing look like for 120 seats?"),
        ("bot", "Business is $45 per seat per month billed annually."),
        ("prospect", "Any discount if we sign for two years?"),
        ("bot", "I'm not sure, discounts are set by our sales team."),
        ("prospect", "Makes sense. Our legal team will also want to see the DPA."),
        ("bot", "I can share our standard DPA template."),
        ("prospect", "Great, can we set up a demo with someone this week?"),
        ("bot", "Of course, let me check who is available."),
    ]
    return EvaluateRequest(messages=[Message(role=role, text=text) for role, text in turns])


def time_evaluation(meaning: Meaning | None, fresh_text: bool, runs: int = TIMING_RUNS) -> dict[str, Any]:
    """evaluate() on the typical conversation. fresh_text: every run's messages are new to the encoder's cache
    (a conversation the process has never seen); otherwise only the last message is (a bot asking again after
    each message, the usual case)."""
    policy = load_policy()
    request = typical_conversation()
    evaluate(request, policy, meaning)  # warm-up
    latest_from_prospect = len(request.messages) - 2
    samples = []
    for run in range(runs):
        messages = [message.model_copy(update={"text": f"{message.text} ({run})"})
                    if fresh_text or index == latest_from_prospect else message
                    for index, message in enumerate(request.messages)]
        changed = request.model_copy(update={"messages": messages})
        started = time.perf_counter()
        evaluate(changed, policy, meaning)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"messages": len(request.messages), "runs": runs, "median_ms": round(statistics.median(samples), 2),
            "p99_ms": round(samples[int(runs * 0.99) - 1], 2)}


def main() -> None:
    cases = every_case()
    policy = load_policy()
    resident_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    meaning = Meaning(MeaningModel.load(), UniversalSentenceEncoder())
    added_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - resident_before) / 1024
    results: dict[str, Any] = {}
    report = []
    for label, chosen in (("rules", None), ("meaning", meaning)):
        evaluations = [evaluate(request_of(case), policy, chosen) for case in cases]
        results[label] = {}
        for file, split, batch in GROUPS:
            picked = [(case, ev) for case, ev in zip(cases, evaluations, strict=True)
                      if case["set"] == file and case["split"] == split and batch in (None, case["batch"])]
            group_cases, group_evaluations = [case for case, _ in picked], [ev for _, ev in picked]
            name = ".".join(part for part in (file, split, batch) if part)
            figures = by_language(group_cases, group_evaluations)
            if split != "holdout":  # the mistakes worth reading are the holdouts'; the rest would be megabytes
                for language in figures.values():
                    language.pop("mistakes")
            results[label][name] = figures
            report += [f"\n## {label}: {file}.jsonl, {split}{f' {batch}' if batch else ''} ({len(picked)})\n",
                       score_by_language(group_cases, group_evaluations)]
    results["goals"] = GOALS
    results["speed"] = {
        "rules_only": time_evaluation(None, fresh_text=True),
        "with_meaning_new_conversation": time_evaluation(meaning, fresh_text=True),
        "with_meaning_next_message": time_evaluation(meaning, fresh_text=False),
        "meaning_model_added_mib": round(added_mib, 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("\n".join(report))
    print("\nspeed:", json.dumps(results["speed"]))
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
