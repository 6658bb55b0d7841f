"""bench.triggers.train rebuilds the shipped meaning model from the labelled data: the weights in the repo are
what the script makes, not something edited by hand."""

from __future__ import annotations

import numpy as np

from bench.triggers.sets import every_case, request_of, training_cases
from bench.triggers.train import fit
from domain.triggers import evaluate, load_policy
from domain.triggers.meaning import Meaning, MeaningModel, conversation_features
from integrations.triggers.local import shipped_meaning


def test_retraining_gives_the_shipped_models_answers():
    shipped, policy = shipped_meaning(), load_policy()
    learnt = training_cases()
    features = np.stack([conversation_features(request_of(case), evaluate(request_of(case), policy),
                                               shipped.encoder).vector for case in learnt])
    retrained = Meaning(MeaningModel(fit(learnt, features, shipped.encoder.name)), shipped.encoder)
    holdout = [request_of(case) for case in every_case() if case["split"] == "holdout"]
    answers = [(evaluate(request, policy, shipped), evaluate(request, policy, retrained)) for request in holdout]
    same = sum(a.transfer == b.transfer and a.category == b.category and a.timing.advice == b.timing.advice
               for a, b in answers)
    assert same / len(answers) >= 0.98
