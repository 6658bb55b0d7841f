"""The meaning model's arithmetic and how evaluate() weighs it with the rules, on a hand-built model and an
encoder whose vectors we choose: each test sets the model's opinion and checks what the bot is told."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from domain.triggers import EvaluateRequest, evaluate
from domain.triggers.meaning import (
    ADVICE,
    CLAUSE_CHARS,
    CLAUSES,
    FEATURES_VERSION,
    SCALAR_FEATURES,
    VECTOR_BLOCKS,
    Meaning,
    MeaningModel,
    clauses_of,
    conversation_features,
)
from domain.triggers.models import TRIGGER_NAMES
from tests.domain.triggers.helpers import conversation

DIMENSIONS = 4
WIDTH = VECTOR_BLOCKS * DIMENSIONS + SCALAR_FEATURES
# The words our encoder knows; every other text is the zero vector.
AXES = {"budget": 0, "anger": 1, "unfinished": 2, "plain": 3}


class WordEncoder:
    """A text's vector has a 1 on the axis of each of our words it contains."""

    name = "words"

    def __init__(self) -> None:
        self.asked: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.asked += texts
        vectors = np.zeros((len(texts), DIMENSIONS), np.float32)
        for row, text in enumerate(texts):
            for word, axis in AXES.items():
                vectors[row, axis] = word in text
        return vectors


def model(transfer: float = 0.0, triggers: dict[str, tuple[str, float]] | None = None,
          timing: str = "now", **overrides: object) -> MeaningModel:
    """A model whose transfer bias is `transfer`, and whose trigger t leans towards the clauses containing word w
    (weight on the max-pooled clause block) when triggers={t: (w, weight)}. Timing always prefers `timing`."""
    trigger_w = np.zeros((len(TRIGGER_NAMES), WIDTH), np.float32)
    trigger_b = np.full(len(TRIGGER_NAMES), -5.0, np.float32)
    for name, (word, weight) in (triggers or {}).items():
        trigger_w[TRIGGER_NAMES.index(name), AXES[word]] = weight
    timing_b = np.array([5.0 if advice == timing else 0.0 for advice in ADVICE], np.float32)
    weights = {
        "features_version": np.array(FEATURES_VERSION), "encoder": np.array("words"),
        "dimensions": np.array(DIMENSIONS), "trigger_names": np.array(TRIGGER_NAMES),
        "transfer_w": np.zeros(WIDTH, np.float32), "transfer_b": np.array(transfer, np.float32),
        "trigger_w": trigger_w, "trigger_b": trigger_b,
        "timing_w": np.zeros((len(ADVICE), WIDTH), np.float32), "timing_b": timing_b,
        "timing_classes": np.array(ADVICE),
    }
    return MeaningModel({**weights, **overrides})


def weighed(request: EvaluateRequest, **opinion: object):
    return evaluate(request, meaning=Meaning(model(**opinion), WordEncoder()))


BUDGET = conversation(("prospect", "Hello there."), ("bot", "Hi! How can I help?"),
                      ("prospect", "We are fine. But the budget is tight this year."))


def test_below_the_bar_nothing_transfers_even_where_a_phrase_matched():
    request = conversation(("prospect", "I want to talk to a real person"))
    assert evaluate(request).transfer  # the rules' phrase
    answer = weighed(request, transfer=-3.0)
    assert not answer.transfer and answer.triggers == [] and answer.timing.advice is None
    assert answer.language == "en"


def test_a_trigger_the_rules_missed_is_evidenced_by_the_clause_that_weighs_most():
    assert not evaluate(BUDGET).transfer
    answer = weighed(BUDGET, transfer=3.0, triggers={"negotiation": ("budget", 10.0)})
    assert answer.transfer and answer.category == "necessary"
    [hit] = answer.triggers
    assert hit.name == "negotiation" and hit.confidence > 0.99
    assert [(e.message_index, e.text) for e in hit.evidence] == [(2, "But the budget is tight this year.")]


def test_where_rules_and_model_agree_the_rules_words_are_the_evidence():
    request = conversation(("prospect", "Honestly the anger is building. I want to talk to a real person now."))
    rules = {hit.name: hit for hit in evaluate(request).triggers}
    answer = weighed(request, transfer=3.0, triggers={"escalation_requested": ("anger", 10.0)})
    [hit] = answer.triggers
    assert hit.name == "escalation_requested"
    assert hit.evidence == rules["escalation_requested"].evidence
    assert "real person" in hit.evidence[0].text


def test_the_most_pressing_category_wins():
    request = conversation(("prospect", "The budget is tight and the anger is real."))
    answer = weighed(request, transfer=3.0,
                     triggers={"negotiation": ("budget", 10.0), "frustration": ("anger", 10.0)})
    assert [hit.name for hit in answer.triggers] == ["frustration", "negotiation"]
    assert answer.category == "rescue" and answer.urgency is not None


def test_facts_the_bot_states_fire_whatever_the_model_reads():
    request = conversation(("prospect", "Hello there."), known={"vip": True})
    answer = weighed(request, transfer=-3.0)
    assert answer.transfer and [hit.name for hit in answer.triggers] == ["vip_account"]
    assert answer.triggers[0].evidence[0].message_index == -1


@pytest.mark.parametrize("advice", ["wait", "collect_first", "now"])
def test_the_models_timing_comes_with_reasons(advice):
    answer = weighed(BUDGET, transfer=3.0, triggers={"demo_request": ("budget", 10.0)}, timing=advice)
    assert answer.timing.advice == advice and answer.timing.reasons
    if advice == "collect_first":
        assert answer.timing.missing == ["use case", "company size", "contact info"]


def test_the_rules_reasons_are_kept_when_the_model_agrees():
    request = conversation(("prospect", "Can I get a demo?"))
    rules = evaluate(request).timing
    assert rules.advice == "collect_first"
    answer = weighed(request, transfer=3.0, triggers={"demo_request": ("plain", 0.0)}, timing="collect_first")
    assert answer.timing == rules


def test_clauses_are_the_latest_sentences_of_the_latest_prospect_messages():
    request = conversation(*[("prospect", f"First {n}. Second {n}！第三{n}。") for n in range(5)],
                           ("bot", "Noted."), ("prospect", "x" * 5_000))
    clauses = clauses_of(request)
    assert len(clauses) == CLAUSES
    assert clauses[-1].message_index == 6 and clauses[-1].text == "x" * CLAUSE_CHARS
    assert [clause.text for clause in clauses[:3]] == ["第三2。", "First 3.", "Second 3！"]


def test_the_features_read_the_latest_bot_lines_and_what_the_rules_found():
    encoder = WordEncoder()
    request = conversation(("bot", "b1"), ("bot", "b2 anger"), ("bot", "b3 budget"), ("prospect", "plain words"))
    features = conversation_features(request, evaluate(request), encoder)
    assert encoder.asked == ["plain words", "plain words", "b2 anger", "b3 budget"]
    bot_block = features.vector[4 * DIMENSIONS : 5 * DIMENSIONS]
    assert bot_block.tolist() == [0.5, 0.5, 0.0, 0.0]
    assert features.vector.shape == (WIDTH,)


def test_the_features_say_when_a_side_says_the_same_again_lately():
    def repeats(*turns: tuple[str, str]) -> list[float]:
        request = conversation(*turns)
        return conversation_features(request, evaluate(request), WordEncoder()).vector[-2:].tolist()

    assert repeats(("prospect", "the budget. And more.")) == [0.0, 0.0]
    again = [("prospect", "the budget"), ("bot", "plain"), ("prospect", "Well. budget!"), ("bot", "plain")]
    assert repeats(*again) == [1, 1]
    assert repeats(("prospect", "the budget"), ("bot", "plain"), ("prospect", "anger"), ("bot", "anger")) == [0, 0]
    # Only what is read counts: the latest CLAUSES clauses, and the bot's last two lines.
    long_ago = [("prospect", "the budget"), ("prospect", "anger. " * CLAUSES), ("bot", "plain"), ("bot", "anger"),
                ("bot", "plain budget"), ("prospect", "budget")]
    assert repeats(*long_ago) == [0.0, 0.0]


def test_a_model_from_other_features_or_another_encoder_is_refused():
    with pytest.raises(ValueError, match="features v0"):
        model(features_version=np.array(0))
    with pytest.raises(ValueError, match="other trigger names"):
        model(trigger_names=np.array(TRIGGER_NAMES[:-1]))
    with pytest.raises(ValueError, match="encoder is 'words'"):
        Meaning(model(encoder=np.array("use-multilingual-v3")), WordEncoder())
