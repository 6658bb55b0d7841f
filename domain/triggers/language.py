"""Which language the prospect writes in.

CJK scripts are told apart by Unicode ranges (fast, and exact for chat). Everything else goes to py3langid,
whose model ships inside the package (4.5 MB, numpy its only dependency) and is restricted to the policy's
candidate languages so short chat lines are not mistaken for rare languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

# Long conversations: the latest text says enough, and bounds the cost.
SAMPLE_CHARS = 600
_LATIN_WORD = re.compile(r"[^\W\d_]{2,}", re.ASCII)
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True, slots=True)
class Detected:
    code: str
    """ISO 639-1."""
    confidence: float


@cache
def _identifier(candidates: tuple[str, ...]) -> LanguageIdentifier:
    # Loading the bundled model takes most of a second: once per process and candidate set.
    identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(candidates))
    return identifier


class LanguageDetector:
    def __init__(self, candidates: list[str], min_confidence: float) -> None:
        """Raises ValueError naming the codes py3langid does not know."""
        self._candidates = tuple(sorted(candidates))
        self._min_confidence = min_confidence
        _identifier(self._candidates)

    def detect(self, text: str) -> Detected | None:
        """The language of text, or None when it has too few letters to tell."""
        sample = text[-SAMPLE_CHARS:]
        latin_words = len(_LATIN_WORD.findall(sample))
        by_script = _by_script(sample, latin_words)
        if by_script:
            return by_script
        if not latin_words:
            return None
        code, confidence = _identifier(self._candidates).classify(sample)
        return Detected(code, round(confidence, 3)) if confidence >= self._min_confidence else None


def _by_script(sample: str, latin_words: int) -> Detected | None:
    """A CJK script outweighing the Latin words around it (product names, emails) decides the language."""
    han, kana, hangul = (len(script.findall(sample)) for script in (_HAN, _KANA, _HANGUL))
    for code, count in (("ja", kana and kana + han), ("ko", hangul), ("zh", han)):
        if count and count >= latin_words:
            return Detected(code, round(count / (count + latin_words), 3))
    return None
