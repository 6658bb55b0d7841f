"""What the conversation means, read by a multilingual sentence encoder and linear models trained on labelled
conversations (bench/triggers/train.py writes meaning.npz next to this file).

The encoder is handed in (integrations/triggers/encoder.py wraps the one we ship), so this module stays numpy
arithmetic: embed the prospect's latest clauses and messages and the bot's latest lines, put them beside what the
rules found and how close each side's latest message comes to its previous ones, and score three things: should
this go to a human at all, which triggers, and when. Evidence for a trigger the rules did not see is the clause
that weighs most towards it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, get_args

import numpy as np

from domain.triggers.models import TRIGGER_NAMES, Advice, EvaluateRequest, Evaluation, Evidence, TriggerName

MODEL_FILE = Path(__file__).with_name("meaning.npz")
FEATURES_VERSION = 2
ADVICE: tuple[Advice, ...] = get_args(Advice)
# How much of the conversation is read: the latest words decide, and the bound keeps a huge request cheap.
PROSPECT_MESSAGES = 4
CLAUSES = 8
CLAUSE_CHARS = 300
MESSAGE_CHARS = 1_000
BOT_MESSAGES = 2
VECTOR_BLOCKS = 5  # clauses max- and mean-pooled, the last message, the last clause, the bot's latest lines
SCALAR_FEATURES = len(TRIGGER_NAMES) + len(ADVICE) + 2  # the rules' triggers and timing; each side's repeats
_CLAUSE = re.compile(r"[^.!?。！？;；\n]+[.!?。！？;；\n]*")


class SentenceEncoder(Protocol):
    name: str
    """Which model: weights trained on one encoder's vectors mean nothing on another's."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised row per text."""


@dataclass(frozen=True, slots=True)
class Clause:
    message_index: int
    text: str


@dataclass(frozen=True, slots=True)
class Features:
    vector: np.ndarray
    clauses: list[Clause]
    clause_vectors: np.ndarray


@dataclass(frozen=True, slots=True)
class Reading:
    transfer: float
    """Probability that a sales manager would hand this conversation to a human now."""
    triggers: dict[TriggerName, float]
    evidence: dict[TriggerName, Evidence]
    """For each trigger, the prospect's clause that weighs most towards it."""
    timing: dict[Advice, float]


def clauses_of(request: EvaluateRequest) -> list[Clause]:
    """The prospect's latest clauses, oldest first: sentences, cut at their closing marks."""
    found: list[Clause] = []
    prospect = [(index, m.text) for index, m in enumerate(request.messages) if m.role == "prospect"]
    for index, text in prospect[-PROSPECT_MESSAGES:]:
        pieces = [piece.strip() for piece in _CLAUSE.findall(text[-MESSAGE_CHARS:])]
        found += [Clause(index, piece[:CLAUSE_CHARS]) for piece in pieces if piece]
    return found[-CLAUSES:]


def conversation_features(request: EvaluateRequest, rules: Evaluation, encoder: SentenceEncoder) -> Features:
    clauses = clauses_of(request) or [Clause(-1, "")]
    prospect = [m.text for m in request.messages if m.role == "prospect"]
    bot = [m.text[-MESSAGE_CHARS:] for m in request.messages if m.role == "bot"][-BOT_MESSAGES:]
    last_message = prospect[-1][-MESSAGE_CHARS:] if prospect else ""
    vectors = encoder.encode([clause.text for clause in clauses] + [last_message] + bot)
    clause_vectors, last, bot_vectors = vectors[: len(clauses)], vectors[len(clauses)], vectors[len(clauses) + 1 :]
    dimensions = vectors.shape[1]
    fired = {hit.name for hit in rules.triggers}
    vector = np.concatenate([
        clause_vectors.max(axis=0),
        clause_vectors.mean(axis=0),
        last,
        clause_vectors[-1],
        bot_vectors.mean(axis=0) if len(bot_vectors) else np.zeros(dimensions, np.float32),
        np.array([name in fired for name in TRIGGER_NAMES], np.float32),
        np.array([rules.timing.advice == advice for advice in ADVICE], np.float32),
        np.array([_prospect_restates(clauses, clause_vectors), _bot_repeats(bot_vectors)], np.float32),
    ]).astype(np.float32)
    return Features(vector, clauses, clause_vectors)


def dimensions_of(width: int) -> int:
    """The encoder's dimensions, from the width of conversation_features()."""
    return (width - SCALAR_FEATURES) // VECTOR_BLOCKS


# Saying the same again (the prospect rephrasing, the bot repeating itself) is how a misunderstanding shows. Both
# read vectors already encoded (cosines: they are normalised), so they cost no encoding.
def _prospect_restates(clauses: list[Clause], vectors: np.ndarray) -> float:
    """How close a clause of the prospect's latest message comes to one of their earlier clauses read here."""
    latest = np.array([clause.message_index == clauses[-1].message_index for clause in clauses])
    return float((vectors[latest] @ vectors[~latest].T).max()) if (~latest).any() else 0.0


def _bot_repeats(vectors: np.ndarray) -> float:
    """How close the bot's latest line comes to the one before."""
    return float(vectors[0] @ vectors[1]) if len(vectors) == 2 else 0.0


class MeaningModel:
    """The trained weights: logistic regressions over conversation_features()."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        if int(weights["features_version"]) != FEATURES_VERSION:
            raise ValueError(f"meaning model built for features v{int(weights['features_version'])}, "
                             f"this code makes v{FEATURES_VERSION}: retrain it (bench/triggers/train.py)")
        if tuple(str(name) for name in weights["trigger_names"]) != TRIGGER_NAMES:
            raise ValueError("meaning model trained on other trigger names: retrain it (bench/triggers/train.py)")
        self.encoder_name = str(weights["encoder"])
        self.transfer_weights, self.transfer_bias = weights["transfer_w"], float(weights["transfer_b"])
        self.trigger_weights, self.trigger_bias = weights["trigger_w"], weights["trigger_b"]
        self.timing_weights, self.timing_bias = weights["timing_w"], weights["timing_b"]
        self.timing_classes: tuple[Advice, ...] = tuple(str(name) for name in weights["timing_classes"])  # type: ignore[assignment]
        self.dimensions = int(weights["dimensions"])

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> MeaningModel:
        return cls(cls.load_weights(path))

    @staticmethod
    def load_weights(path: Path = MODEL_FILE) -> dict[str, np.ndarray]:
        with np.load(path, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}

    def read(self, features: Features) -> Reading:
        x = features.vector
        transfer = float(_sigmoid(x @ self.transfer_weights + self.transfer_bias))
        trigger_scores = _sigmoid(self.trigger_weights @ x + self.trigger_bias)
        timing_scores = _softmax(self.timing_weights @ x + self.timing_bias)
        # A clause's pull towards each trigger: the weights on the max- and mean-pooled clause blocks.
        d = self.dimensions
        pull = features.clause_vectors @ (self.trigger_weights[:, :d] + self.trigger_weights[:, d : 2 * d]).T
        evidence = {}
        for column, name in enumerate(TRIGGER_NAMES):
            clause = features.clauses[int(np.argmax(pull[:, column]))]
            evidence[name] = Evidence(message_index=clause.message_index, text=clause.text)
        return Reading(
            transfer=transfer,
            triggers={name: float(score) for name, score in zip(TRIGGER_NAMES, trigger_scores, strict=True)},
            evidence=evidence,
            timing={advice: float(score) for advice, score in zip(self.timing_classes, timing_scores, strict=True)},
        )


@dataclass(frozen=True, slots=True)
class Meaning:
    """A model and the encoder it was trained on, checked to belong together."""

    model: MeaningModel
    encoder: SentenceEncoder

    def __post_init__(self) -> None:
        if self.model.encoder_name != self.encoder.name:
            raise ValueError(f"meaning model trained on {self.model.encoder_name!r} vectors, "
                             f"encoder is {self.encoder.name!r}")

    def read(self, request: EvaluateRequest, rules: Evaluation) -> Reading:
        return self.model.read(conversation_features(request, rules, self.encoder))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(z, -50, 50)))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()
