"""The meaning model we ship, on the encoder we ship: it loads offline, reads six languages, was trained on the
conversations it may learn from and no others, and holds its figures on the holdout it never saw."""

from __future__ import annotations

import numpy as np
import pytest

from bench.triggers.accuracy import by_language
from bench.triggers.sets import every_case, fingerprint, request_of, training_cases
from domain.triggers import EvaluateRequest, evaluate
from domain.triggers.meaning import MeaningModel
from integrations.triggers.encoder import UniversalSentenceEncoder
from integrations.triggers.local import shipped_meaning

# Written for this test, in none of the labelled files.
SHOULD_TRANSFER = [
    ("es", "Queremos ver una demostración del producto.", "positive"),
    ("fr", "Franchement, ça fait trois fois que je pose la même question et vous ne répondez jamais à côté. Je veux "
           "parler à quelqu'un.", "rescue"),
    ("de", "Wir haben 3.000 Mitarbeiter in zwölf Ländern und brauchen SSO, ein eigenes Rechenzentrum in der EU und "
           "einen Rahmenvertrag.", "positive"),
    ("ja", "見積もりが予算より少し高いので、3年契約にしたら値引きしてもらえますか？", "necessary"),
    ("zh", "你们的合同里关于数据归属的条款，我们法务需要修改，可以用我们的模板吗？", "necessary"),
]
SHOULD_NOT = [
    ("es", "Gracias, ya me quedó claro. Eso era todo."),
    ("de", "Danke, der Preis passt so für uns. Schönen Tag noch!"),
    ("ja", "ありがとうございます、よく分かりました。"),
    ("fr", "Merci, c'est exactement ce que je cherchais, bonne journée."),
]


def one_message(language: str, text: str) -> EvaluateRequest:
    return EvaluateRequest(messages=[{"role": "prospect", "text": text}], locale=language)


@pytest.mark.parametrize(("language", "text", "category"), SHOULD_TRANSFER)
def test_paraphrase_in_six_languages_transfers(language, text, category):
    answer = evaluate(one_message(language, text), meaning=shipped_meaning())
    assert answer.transfer and answer.category == category
    for hit in answer.triggers:
        assert all(evidence.text in text for evidence in hit.evidence)


@pytest.mark.parametrize(("language", "text"), SHOULD_NOT)
def test_a_satisfied_prospect_stays_with_the_bot(language, text):
    assert not evaluate(one_message(language, text), meaning=shipped_meaning()).transfer


def test_the_encoder_reads_meaning_across_languages_and_remembers_what_it_read():
    encoder = UniversalSentenceEncoder(cache_size=3)
    vectors = encoder.encode(["I want to talk to a person", "我想和真人聊聊", "Quiero hablar con una persona",
                              "What's the weather like?"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3)
    similar = vectors[:3] @ vectors[:3].T
    assert similar.min() > (vectors[:3] @ vectors[3]).max() + 0.3
    assert len(encoder._cache) == 3  # bounded: the oldest text went
    assert np.array_equal(encoder.encode(["What's the weather like?"])[0], vectors[3])


def test_the_shipped_model_learnt_from_the_training_splits_and_nothing_else():
    learnt = training_cases()
    assert {case["split"] for case in learnt} == {"dev", "train"}
    assert len(learnt) == sum(case["split"] != "holdout" for case in every_case())
    assert str(MeaningModel.load_weights()["trained_on"]) == fingerprint(learnt)


@pytest.mark.parametrize(("file", "floors"), [
    # file: F1, false transfers at most, category, timing, trigger recall, F1 in each language
    ("written", (0.95, 0.05, 0.85, 0.92, 0.85, 0.92)),
    ("blind", (0.93, 0.15, 0.83, 0.87, 0.81, 0.88)),
])
def test_the_holdout_figures_hold(file, floors):
    """Measured on 2026-12-07 (bench/triggers/README.md); the floors sit a little below."""
    f1, false_transfers, category, timing, recall, f1_each = floors
    holdout = [case for case in every_case() if case["set"] == file and case["split"] == "holdout"]
    figures = by_language(holdout, [evaluate(request_of(case), meaning=shipped_meaning()) for case in holdout])
    rules = by_language(holdout, [evaluate(request_of(case)) for case in holdout])
    assert figures["all"]["transfer_f1"] >= f1 and figures["all"]["false_transfers"] <= false_transfers
    assert figures["all"]["category"] >= category and figures["all"]["timing"] >= timing
    assert figures["all"]["micro"]["recall"] >= recall
    assert figures["all"]["micro"]["recall"] > rules["all"]["micro"]["recall"] + 0.2
    assert min(figures[language]["transfer_f1"] for language in ("en", "zh", "es", "fr", "de", "ja")) >= f1_each
