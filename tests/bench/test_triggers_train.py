"""bench.triggers.train rebuilds the shipped meaning model from the labelled data: the weights in the repo are
what the script makes, not something edited by hand."""

from __future__ import annotations

import numpy as np

from bench.triggers.sets import request_of, training_cases
from bench.triggers.train import fit
from domain.triggers import evaluate, load_policy
from domain.triggers.meaning import MeaningModel, conversation_features
from integrations.triggers.local import shipped_meaning


def test_retraining_gives_the_shipped_weights():
    shipped, policy = shipped_meaning(), load_policy()
    learnt = training_cases()
    features = np.stack([conversation_features(request_of(case), evaluate(request_of(case), policy),
                                               shipped.encoder).vector for case in learnt])
    stored = MeaningModel.load_weights()
    # Started from the shipped weights, the fit only gets quicker: the data's one optimum is where it ends, so
    # weights edited by hand (or trained on other data) move.
    retrained = fit(learnt, features, shipped.encoder.name, start=stored)
    assert retrained.keys() == stored.keys()
    for name, weights in stored.items():
        if weights.dtype.kind == "f":
            assert np.allclose(retrained[name], weights, rtol=1e-3, atol=1e-3), name
        else:
            assert np.array_equal(retrained[name], weights), name
