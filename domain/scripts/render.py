"""Template machinery shared by the bot lines and the rep texts.

Texts are data. Per language, a sentence is a tuple of alternative templates: the first one
whose {fields} are all known is used, and a sentence with no usable alternative is left out.
That is how a missing fact falls back ("one of our specialists") or drops its clause instead
of printing "None", an empty bracket or a dangling comma. An explicit "" alternative makes a
phrase optional: it is always known, possibly empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from string import Formatter
from typing import Literal

Lang = Literal["en", "zh"]
Alternatives = tuple[str, ...]
Slots = dict[str, str]

CHINESE_LOCALES = frozenset({"zh", "zh-cn", "zh-hans"})
SENTENCE_JOINER: dict[Lang, str] = {"en": " ", "zh": ""}


def language_of(locale: str | None) -> Lang:
    """Simplified Chinese for zh / zh-CN / zh-Hans (any case), English for everything else."""
    return "zh" if (locale or "").replace("_", "-").lower() in CHINESE_LOCALES else "en"


def written_in(locale: str | None) -> str:
    """The locale to label text made for `locale` with: `locale` itself when its language has lines of its own
    (en-GB, zh-CN), else the language the text fell back to, so a bot asking in "fr" or "zh-TW" is told its
    line is English rather than led to pass it on as its own language."""
    language = language_of(locale)
    return locale if locale and locale.replace("_", "-").split("-")[0].lower() == language else language


def known(**facts: object) -> Slots:
    """The facts that are actually there, as text: None and blank values are dropped."""
    texts = {name: str(value).strip() for name, value in facts.items() if value is not None}
    return {name: text for name, text in texts.items() if text}


@lru_cache(maxsize=1024)
def _fields(template: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in Formatter().parse(template) if name)


def pick(alternatives: Alternatives, slots: Mapping[str, str]) -> str | None:
    """The first alternative whose fields are all in `slots`, filled in; None if none fits."""
    for template in alternatives:
        if _fields(template) <= slots.keys():
            return template.format_map(slots)
    return None


def derive(slots: Slots, phrases: Mapping[str, Alternatives]) -> Slots:
    """`slots` plus derived phrases, in table order, so a phrase may use one defined before it."""
    result = dict(slots)
    for name, alternatives in phrases.items():
        text = pick(alternatives, result)
        if text is not None:
            result[name] = text
    return result


def compose(sentences: Sequence[Alternatives], slots: Mapping[str, str], lang: Lang) -> str:
    return SENTENCE_JOINER[lang].join(text for text in (pick(s, slots) for s in sentences) if text)


def first_name(full_name: str | None) -> str | None:
    parts = (full_name or "").split()
    return parts[0] if parts else None


def sentence_case(text: str | None) -> str | None:
    """Capitalise the first letter and drop a trailing full stop, so a fact can open a sentence."""
    text = (text or "").strip().rstrip(".。")
    return text[:1].upper() + text[1:] if text else None
