"""Head counts as prospects write them: "2,000", "1.5k", "300", "三百", "两千五百", "2万", "1.200", "5 mil"."""

from __future__ import annotations

import math
import re

_ARABIC = re.compile(r"(\d+(?:\.\d+)?)\s*(k(?![a-z])|m(?![a-z])|mil(?![a-z])|千|万)?", re.IGNORECASE)
_SUFFIX = {None: 1, "k": 1_000, "m": 1_000_000, "mil": 1_000, "千": 1_000, "万": 10_000}
# "1.200", "1'200", "1 200": thousands as es/fr/de/de-CH write them (a group of exactly three digits follows).
_THOUSANDS_SEPARATOR = re.compile(r"(?<=\d)[.' \u202f](?=\d{3}(?!\d))")
_CHINESE_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CHINESE_UNITS = {"十": 10, "百": 100, "千": 1_000}
_CHINESE_MYRIADS = {"万": 10_000, "亿": 100_000_000}


def parse_count(text: str) -> int | None:
    """The number at the start of text, or None when there is none."""
    text = _THOUSANDS_SEPARATOR.sub("", text.strip().replace(",", ""))
    arabic = _ARABIC.match(text)
    if arabic:
        value = float(arabic.group(1)) * _SUFFIX[arabic.group(2) and arabic.group(2).lower()]
        return int(value) if math.isfinite(value) else None  # 400 nines is no head count, and no crash
    return _chinese(text)


def _chinese(text: str) -> int | None:
    total = section = digit = 0
    seen = False
    for char in text:
        if char in _CHINESE_DIGITS:
            digit = _CHINESE_DIGITS[char]
        elif char in _CHINESE_UNITS:
            # "十" alone means ten: a unit without a digit before it counts once.
            section += (digit or 1) * _CHINESE_UNITS[char]
            digit = 0
        elif char in _CHINESE_MYRIADS:
            total += (section + digit) * _CHINESE_MYRIADS[char]
            section = digit = 0
        else:
            break
        seen = True
    return total + section + digit if seen else None
