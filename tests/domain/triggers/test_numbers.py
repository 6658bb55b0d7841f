from __future__ import annotations

import pytest

from domain.triggers.numbers import parse_count


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("300", 300),
        ("2,000", 2000),
        ("1.5k", 1500),
        ("10K", 10_000),
        ("500 members", 500),
        ("三百", 300),
        ("两千五百", 2500),
        ("十五", 15),
        ("2万", 20_000),
        ("一万二千", 12_000),
        ("many", None),
        ("", None),
    ],
)
def test_parse_count(text, count):
    assert parse_count(text) == count


def test_a_number_too_large_for_a_head_count_is_none_not_a_crash():
    assert parse_count("9" * 400 + " users") is None
