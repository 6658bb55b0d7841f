"""Spanish, French, German and Japanese phrases: each fires, and its negation does not."""

from __future__ import annotations

import pytest

from domain.triggers import evaluate
from domain.triggers.numbers import parse_count
from tests.domain.triggers.helpers import conversation, names, said


@pytest.mark.parametrize(
    ("text", "locale", "trigger"),
    [
        ("¿Nos pueden dar un descuento si pagamos el año por adelantado?", "es-MX", "negotiation"),
        ("Quiero hablar con una persona, por favor.", "es-AR", "escalation_requested"),
        ("¿Podemos agendar una reunión para ver la plataforma?", "es-ES", "demo_request"),
        ("Me cobraron dos veces este mes, quiero un reembolso.", "es-MX", "complaint"),
        ("Nous voudrions une démonstration pour notre équipe commerciale.", "fr-FR", "demo_request"),
        ("Notre juriste doit relire le contrat avant la signature.", "fr-FR", "contract_legal"),
        ("J'en ai marre, ça sert à rien ce robot.", "fr-CA", "frustration"),
        ("Können Sie mir beim Preis entgegenkommen? Das ist uns zu teuer.", "de-DE", "negotiation"),
        ("Wir hatten einen Sicherheitsvorfall, Zugangsdaten wurden gestohlen.", "de-AT", "sensitive_situation"),
        ("Das habe ich schon zweimal gefragt, lesen Sie meine Frage.", "de-CH", "repeated_misunderstanding"),
        ("来週、デモをお願いできますか？", "ja-JP", "demo_request"),
        ("担当者と話したいです。", "ja-JP", "escalation_requested"),
        ("請求が二重になっていたので返金してください。", "ja-JP", "complaint"),
        ("不具合が続いているので返金してほしい。", "ja-JP", "complaint"),
    ],
)
def test_a_phrase_fires(text, locale, trigger):
    assert trigger in names(said(text, locale=locale))


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("No necesito una demo, gracias, ya lo probé.", "es-MX"),
        ("Una demostración por ahora no, gracias.", "es-ES"),
        ("Pas besoin de démo, je teste d'abord moi-même.", "fr-FR"),
        ("Une démonstration n'est pas nécessaire pour le moment.", "fr-CA"),
        ("Eine Vorführung brauchen wir nicht, danke.", "de-DE"),
        ("Wir haben keinen Rabatt erwartet, der Preis passt.", "de-AT"),
        ("デモは不要です。自分で試してみます。", "ja-JP"),
        ("打ち合わせは今回は見送ります。", "ja-JP"),
    ],
)
def test_its_negation_does_not(text, locale):
    assert not said(text, locale=locale).transfer


def test_a_question_asking_for_a_discount_is_no_negation():
    assert "negotiation" in names(said("Gibt es keinen Rabatt für gemeinnützige Vereine?", locale="de-DE"))
    assert "negotiation" in names(said("¿No tienen algún descuento para startups?", locale="es-MX"))


@pytest.mark.parametrize("text", ["Once we have the budget, let's talk.", "Also, die demo site is great."])
def test_short_foreign_words_that_are_english_stay_quiet(text):
    evaluation = said(text, locale="en-US")
    assert not {"escalation_requested", "negotiation", "frustration", "complaint"} & names(evaluation)


def test_a_spanish_prospect_trailing_off_waits():
    evaluation = evaluate(conversation(("prospect", "Queremos una demo para el equipo de ventas y")))
    assert evaluation.timing.advice == "wait"


@pytest.mark.parametrize(("text", "count"), [("1.200", 1200), ("1'800", 1800), ("2 400", 2400), ("5 mil", 5000)])
def test_european_head_counts(text, count):
    assert parse_count(text) == count


def test_a_european_head_count_makes_a_high_value_deal():
    assert "high_value" in names(said("Somos 1.200 empleados y queremos una demo.", locale="es-ES"))
