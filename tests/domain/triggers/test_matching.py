"""The text the rules match: normalised to the same length, with runs that would make a regex try every split of
them cut short."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.triggers import evaluate
from domain.triggers.matching import normalise
from domain.triggers.models import EvaluateRequest

RUN_PIECES = st.sampled_from(["8", "1.", "1,", "1'", " ", "\n", "\t", "一", "万", "三百", "1 ", "　", "x", "seats "])


@given(st.lists(RUN_PIECES, max_size=400).map("".join))
def test_normalised_text_keeps_its_length_and_no_long_run(text):
    normalised = normalise(text)
    assert len(normalised) == len(text)  # a match's offsets hold in the original
    assert not re.search(r"\s{5}", normalised)
    numeral = "\\d一二两三四五六七八九十百千万亿零〇"
    assert not re.search(rf"[{numeral}][{numeral}.,'\s]{{32}}", normalised)
    assert ("\n" in text) <= ("\n" in normalised)  # a line break still ends a clause


def test_what_a_prospect_writes_is_not_cut():
    for text in ("We have 1,200,000 users and a $2,500,000 budget", "我们有两千五百人", "call +1 (555) 123-4567",
                 "Line one\n\nLine two", "a  b   c"):
        assert normalise(text) == text


# A hang guard, not a speed check: before the cut, each of these took 30 s or more.
@pytest.mark.timeout(60)
@pytest.mark.parametrize("text", ["8" * 19_990 + " seats", "一" * 19_990, "1" + " " * 19_990 + "seats",
                                  "1." * 9_995, "book" + " " * 19_990 + "x"])
def test_a_long_run_of_digits_numerals_or_spaces_evaluates(text):
    evaluate(EvaluateRequest(messages=[{"role": "prospect", "text": text}] * 3))
