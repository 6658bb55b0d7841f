"""Train the meaning model (domain/triggers/meaning.npz) on the conversations models may learn from.

Run from the repo root: `.venv/bin/python -m bench.triggers.train` (needs scikit-learn: `make bench` installs
it). Learns from the `dev` split of labelled.jsonl and the `train` split of written.jsonl, never from `holdout`
(sets.py). Prints 5-fold cross-validated figures of the whole evaluator on those conversations (the training
figures; bench.triggers.accuracy gives the holdout ones), then writes the weights.

Three logistic regressions over conversation_features(), classes balanced: transfer or not; each trigger, one
against the rest; and, on the conversations that transfer, the timing advice. C=3, chosen by the same
cross-validation against 1 on the 1,221 training conversations of the third batch (category 0.83 against 0.82,
timing 0.92 against 0.92, false transfers 0.07 against 0.07); C=1 had been chosen against 0.3 and 3 on the
first 463 (the fewest false transfers).
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

from bench.triggers.accuracy import score_by_language
from bench.triggers.sets import Case, fingerprint, request_of, training_cases
from domain.triggers import evaluate, load_policy
from domain.triggers.meaning import (
    FEATURES_VERSION,
    MODEL_FILE,
    Meaning,
    MeaningModel,
    conversation_features,
    dimensions_of,
)
from domain.triggers.models import TRIGGER_NAMES
from integrations.triggers.encoder import UniversalSentenceEncoder

FOLDS = 5
REGULARISATION = 3.0


def _regression(start: tuple[np.ndarray, np.ndarray] | None = None) -> LogisticRegression:
    """A regression, started from `start` (weights, biases) when given: the objective has one optimum (L2
    regularised), so a start changes how fast it is reached, not where."""
    model = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=5_000, warm_start=start is not None)
    if start is not None:
        model.coef_, model.intercept_ = (np.atleast_2d(start[0]).astype(np.float64),
                                         np.atleast_1d(start[1]).astype(np.float64))
    return model


def fit(cases: list[Case], features: np.ndarray, encoder_name: str,
        start: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """The weights meaning.npz holds. `start`: weights to start from (a shipped model's), for a faster fit."""
    transfer = np.array([case["expected"]["transfer"] for case in cases])
    triggers = np.array([[name in case["expected"]["triggers"] for name in TRIGGER_NAMES] for case in cases])

    def begin(weights: str, biases: str, row: int | None = None) -> tuple[np.ndarray, np.ndarray] | None:
        if start is None:
            return None
        return (start[weights], start[biases]) if row is None else (start[weights][row], start[biases][row])

    transfer_model = _regression(begin("transfer_w", "transfer_b")).fit(features, transfer)
    trigger_models = [_regression(begin("trigger_w", "trigger_b", column)).fit(features, triggers[:, column])
                      for column in range(len(TRIGGER_NAMES))]
    timing_model = _regression(begin("timing_w", "timing_b")).fit(
        features[transfer], [case["expected"]["timing"] for case in cases if case["expected"]["transfer"]])
    return {
        "features_version": np.array(FEATURES_VERSION),
        "encoder": np.array(encoder_name),
        "dimensions": np.array(dimensions_of(features.shape[1])),
        "trigger_names": np.array(TRIGGER_NAMES),
        "transfer_w": transfer_model.coef_[0].astype(np.float32),
        "transfer_b": np.array(transfer_model.intercept_[0], np.float32),
        "trigger_w": np.stack([model.coef_[0] for model in trigger_models]).astype(np.float32),
        "trigger_b": np.array([model.intercept_[0] for model in trigger_models], np.float32),
        "timing_w": timing_model.coef_.astype(np.float32),
        "timing_b": timing_model.intercept_.astype(np.float32),
        "timing_classes": np.array(timing_model.classes_),
        "trained_on": np.array(fingerprint(cases)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-cv", action="store_true", help="skip the cross-validated figures")
    args = parser.parse_args()
    encoder, policy = UniversalSentenceEncoder(), load_policy()
    cases = training_cases()
    requests = [request_of(case) for case in cases]
    features = np.stack([conversation_features(request, evaluate(request, policy), encoder).vector
                         for request in requests])
    if not args.no_cv:
        evaluations: list[Any] = [None] * len(cases)
        for learn, check in KFold(FOLDS, shuffle=True, random_state=0).split(features):
            model = MeaningModel(fit([cases[i] for i in learn], features[learn], encoder.name))
            meaning = Meaning(model, encoder)
            for i in check:
                evaluations[i] = evaluate(requests[i], policy, meaning)
        print(f"{FOLDS}-fold cross-validation on the {len(cases)} training conversations:")
        print(score_by_language(cases, evaluations))
    np.savez_compressed(MODEL_FILE, **fit(cases, features, encoder.name))
    print(f"wrote {MODEL_FILE} ({MODEL_FILE.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
