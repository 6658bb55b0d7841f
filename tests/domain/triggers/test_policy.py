"""Loading policy.toml: the bundled file works, a bad edit fails at load naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.triggers import PolicyError, evaluate, load_policy
from domain.triggers.models import TRIGGER_NAMES
from domain.triggers.policy import DEFAULT_POLICY_PATH
from tests.domain.triggers.helpers import conversation, names

BUNDLED = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
DEMO_PATTERNS = "patterns.en = [\n    # A recorded demo or a demo video is self-serve, not a request for a rep.\n"


def edited(tmp_path: Path, old: str, new: str) -> Path:
    assert old in BUNDLED, f"the bundled policy no longer contains {old!r}"
    path = tmp_path / "policy.toml"
    path.write_text(BUNDLED.replace(old, new, 1), encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    return str(raised.value)


def test_the_bundled_policy_loads_with_every_trigger():
    policy = load_policy()
    assert list(policy.triggers) == list(TRIGGER_NAMES)
    assert load_policy(str(DEFAULT_POLICY_PATH)).settings == policy.settings


def test_a_bad_regex_is_named(tmp_path):
    message = load_error(edited(tmp_path, DEMO_PATTERNS, "patterns.en = [\n    '(unclosed',"))
    assert "triggers.demo_request.patterns.en[0]" in message
    assert "invalid regular expression '(unclosed'" in message


def test_a_regex_that_would_break_its_neighbours_is_refused(tmp_path):
    message = load_error(edited(tmp_path, DEMO_PATTERNS, "patterns.en = [\n    'a)|(b',"))
    assert "triggers.demo_request.patterns.en[0]" in message


def test_an_unknown_trigger_name_is_named(tmp_path):
    message = load_error(edited(tmp_path, "[triggers.complaint]", "[triggers.complain]"))
    assert "unknown trigger name(s) ['complain']" in message


def test_a_missing_trigger_is_named(tmp_path):
    start = BUNDLED.index("[triggers.complaint]")
    path = tmp_path / "policy.toml"
    path.write_text(BUNDLED[:start], encoding="utf-8")
    assert "missing [triggers.<name>] section(s) for ['complaint']" in load_error(path)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("bot_fallbacks = 2 ", "bot_fallbacks = 0 ", "thresholds.bot_fallbacks"),
        ("language_confidence = 0.7 ", "language_confidence = 1.5 ", "thresholds.language_confidence"),
        ("high_value_score = 75 ", 'high_value_score = "high" ', "thresholds.high_value_score"),
        ("[triggers.frustration]\nweight = 80", "[triggers.frustration]\nweight = 180", "triggers.frustration.weight"),
        ("min_evidence = 2 ", "min_evidence = 0 ", "triggers.repeated_misunderstanding.min_evidence"),
    ],
)
def test_a_bad_threshold_is_named(tmp_path, old, new, key):
    assert f"{key}:" in load_error(edited(tmp_path, old, new))


def test_a_misspelt_key_is_refused_not_ignored(tmp_path):
    message = load_error(edited(tmp_path, "high_value_score = 75", "high_value_scor = 75"))
    assert "thresholds.high_value_scor: Extra inputs are not permitted" in message
    assert "thresholds.high_value_score: Field required" in message


def test_bands_must_descend(tmp_path):
    message = load_error(edited(tmp_path, "critical = 90, high = 70", "critical = 60, high = 70"))
    assert "urgency.bands: bands must satisfy critical > high > normal" in message


def test_the_category_order_must_name_each_category_once(tmp_path):
    message = load_error(
        edited(tmp_path, 'order = ["rescue", "necessary", "positive"]', 'order = ["rescue", "rescue"]')
    )
    assert "categories: order must list each of" in message


def test_a_language_without_its_section_is_named(tmp_path):
    message = load_error(
        edited(tmp_path, "[triggers.negotiation]\n", '[triggers.negotiation]\nphrases.pt = ["desconto"]\n')
    )
    assert "triggers.negotiation uses language(s) ['pt']" in message


def test_a_blank_phrase_is_refused(tmp_path):
    message = load_error(edited(tmp_path, 'phrases.en = [\n    "walkthrough",', 'phrases.en = [\n    "  ",'))
    assert "triggers.demo_request.phrases.en[0]" in message


def test_a_company_size_pattern_must_capture_the_number(tmp_path):
    message = load_error(
        edited(tmp_path, "patterns.en = [\n    '(\\d[\\d,.]*", "patterns.en = [\n    '\\d+ seats',\n    '(\\d[\\d,.]*")
    )
    assert "facts.company_size.patterns.en[0]" in message
    assert "needs a (group) around the number" in message


def test_an_unknown_detector_language_is_named(tmp_path):
    message = load_error(edited(tmp_path, 'candidates = ["en", "zh",', 'candidates = ["en", "xx", "zh",'))
    assert "language.candidates" in message
    assert "xx" in message


def test_a_file_that_is_not_toml(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text("[thresholds\n", encoding="utf-8")
    assert "not valid TOML" in load_error(path)


def test_a_missing_file(tmp_path):
    message = load_error(tmp_path / "nowhere.toml")
    assert "nowhere.toml: cannot read" in message


def test_an_edited_policy_changes_the_evaluation(tmp_path):
    stricter = load_policy(edited(tmp_path, "bot_fallbacks = 2 ", "bot_fallbacks = 5 "))
    request = conversation(("prospect", "What's new this month?"), known={"bot_fallbacks": 3})
    assert "bot_cannot_answer" in names(evaluate(request))
    assert "bot_cannot_answer" not in names(evaluate(request, stricter))
