"""The labelled conversations, and which of them a model may learn from.

Three files, one line format (README.md here): labelled.jsonl (splits `dev` and `holdout`), written.jsonl
(splits `train` and `holdout`) and blind.jsonl (all `holdout`: written after the model was built, by a writer who
never saw it run or read the other holdouts). Models learn from `dev` and `train` only; every `holdout`
conversation is kept for measuring, never for tuning rules or training and choosing models.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from domain.triggers import EvaluateRequest

HERE = Path(__file__).parent
LABELLED = HERE / "labelled.jsonl"
WRITTEN = HERE / "written.jsonl"
BLIND = HERE / "blind.jsonl"
LEARN_FROM = frozenset({"dev", "train"})
LANGUAGES = ("en", "zh", "es", "fr", "de", "ja")

Case = dict[str, Any]


def load(path: Path) -> list[Case]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def every_case() -> list[Case]:
    """Every file, each case tagged with its `set` (file stem), `lang` (the prospect's, or `other`) and `batch`."""
    cases = []
    for path in (LABELLED, WRITTEN, BLIND):
        for case in load(path):
            if path == LABELLED:
                language, batch = case["expected"].get("language"), None
            else:
                language, batch = case["id"].split("-")[:2]  # `<lang>-<batch>-…`
            cases.append({**case, "set": path.stem, "lang": language if language in LANGUAGES else "other",
                          "batch": batch})
    return cases


def training_cases() -> list[Case]:
    return [case for case in every_case() if case["split"] in LEARN_FROM]


def fingerprint(cases: list[Case]) -> str:
    """Which conversations a model learnt from, as one hash: a test checks it against training_cases()."""
    return hashlib.sha256("\n".join(sorted(case["id"] for case in cases)).encode()).hexdigest()


def request_of(case: Case) -> EvaluateRequest:
    return EvaluateRequest(messages=case["messages"], known=case.get("known", {}), locale=case.get("locale"))
