"""Accuracy of the trigger evaluator on the labelled set, and its speed.

Run from the repo root: `.venv/bin/python -m bench.triggers.accuracy`. Prints a table and writes
bench/results/triggers.json. In labelled.jsonl, `expected.triggers` lists every trigger that should
fire (not just some), so both precision and recall are measured. `split` is "dev" for conversations
the policy was tuned against and "holdout" for ones written afterwards and never tuned on: the holdout
figures are the honest estimate of how the rules generalise.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from domain.triggers import EvaluateRequest, Evaluation, Message, evaluate, load_policy
from domain.triggers.models import TRIGGER_NAMES

LABELLED = Path(__file__).with_name("labelled.jsonl")
RESULTS = Path(__file__).resolve().parents[1] / "results" / "triggers.json"
TIMING_RUNS = 300
SPLITS = ("dev", "holdout")


def load_labelled(path: Path = LABELLED) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def request_of(case: dict[str, Any]) -> EvaluateRequest:
    return EvaluateRequest(messages=case["messages"], known=case.get("known", {}), locale=case.get("locale"))


def score(cases: list[dict[str, Any]], evaluations: list[Evaluation]) -> dict[str, Any]:
    counts = {name: {"tp": 0, "fp": 0, "fn": 0} for name in TRIGGER_NAMES}
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
        got = {
            "transfer": evaluation.transfer,
            "category": evaluation.category,
            "timing": evaluation.timing.advice,
            "language": evaluation.language,
        }
        right["transfer"] += got["transfer"] == expected["transfer"]
        right["category"] += got["category"] == expected["category"]
        right["timing"] += got["timing"] == expected["timing"]
        if "language" in expected:
            language_cases += 1
            right["language"] += got["language"] == expected["language"]
        wrong = {key: (expected[key], got[key]) for key in got if key in expected and expected[key] != got[key]}
        if wrong or wanted != found:
            mistakes.append(
                {"id": case["id"], **wrong, "missed": sorted(wanted - found), "extra": sorted(found - wanted)}
            )
    per_trigger = {name: _precision_recall(**count) for name, count in counts.items()}
    total = len(cases)
    return {
        "conversations": total,
        "transfer_accuracy": round(right["transfer"] / total, 3),
        "category_accuracy": round(right["category"] / total, 3),
        "timing_accuracy": round(right["timing"] / total, 3),
        "language_accuracy": round(right["language"] / language_cases, 3) if language_cases else None,
        "micro": _precision_recall(**{key: sum(count[key] for count in counts.values()) for key in ("tp", "fp", "fn")}),
        "per_trigger": per_trigger,
        "mistakes": mistakes,
    }


def _precision_recall(tp: int, fp: int, fn: int) -> dict[str, Any]:
    return {
        "support": tp + fn,
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
    }


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


def time_evaluation(runs: int = TIMING_RUNS) -> dict[str, float]:
    policy = load_policy()
    request = typical_conversation()
    evaluate(request, policy)  # warm-up: the language model loads lazily
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        evaluate(request, policy)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "messages": len(request.messages),
        "runs": runs,
        "median_ms": round(statistics.median(samples), 3),
        "p95_ms": round(samples[int(runs * 0.95) - 1], 3),
    }


def table(results: dict[str, Any]) -> str:
    every = results["all"]
    lines = ["| trigger | support | precision | recall |", "|---|---:|---:|---:|"]
    for name, row in every["per_trigger"].items():
        lines.append(f"| `{name}` | {row['support']} | {_figure(row['precision'])} | {_figure(row['recall'])} |")
    micro = every["micro"]
    lines.append(
        f"| **all (micro)** | {micro['support']} | {_figure(micro['precision'])} | {_figure(micro['recall'])} |"
    )
    splits = [name for name in ("all", *SPLITS) if name in results]
    lines += ["", "| measure | " + " | ".join(splits) + " |", "|---|" + "---:|" * len(splits)]
    measures = {
        "conversations": lambda r: str(r["conversations"]),
        "trigger precision (micro)": lambda r: _figure(r["micro"]["precision"]),
        "trigger recall (micro)": lambda r: _figure(r["micro"]["recall"]),
        "transfer accuracy": lambda r: _figure(r["transfer_accuracy"]),
        "category accuracy": lambda r: _figure(r["category_accuracy"]),
        "timing accuracy": lambda r: _figure(r["timing_accuracy"]),
        "language accuracy": lambda r: _figure(r["language_accuracy"]),
    }
    for label, show in measures.items():
        lines.append(f"| {label} | " + " | ".join(show(results[split]) for split in splits) + " |")
    speed = results["speed"]
    lines += [
        "",
        f"evaluate() on a {speed['messages']}-message conversation: median {speed['median_ms']} ms, "
        f"p95 {speed['p95_ms']} ms over {speed['runs']} runs.",
    ]
    return "\n".join(lines)


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def main() -> None:
    cases = load_labelled()
    policy = load_policy()
    evaluations = [evaluate(request_of(case), policy) for case in cases]
    results: dict[str, Any] = {"all": score(cases, evaluations)}
    for split in SPLITS:
        chosen = [
            (case, evaluation) for case, evaluation in zip(cases, evaluations, strict=True) if case["split"] == split
        ]
        if chosen:
            results[split] = score([case for case, _ in chosen], [evaluation for _, evaluation in chosen])
    results["speed"] = time_evaluation()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(results))
    for mistake in results["all"]["mistakes"]:
        print(json.dumps(mistake, ensure_ascii=False))
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
