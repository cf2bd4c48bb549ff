"""From e5 embeddings to the language model's 53 emotion scores and 9-level sentiment.

Everything learned lives in two assets next to this module, both written by
``training/train_language.py``:

* ``language_heads.npz``: the GoEmotions emotion head (28 labels, per-label Platt calibration),
  the sentiment head (negative/neutral/positive on e5 + VADER), and one direction per
  description-based dimension, learned from author-written prototype sentences, with its
  dev-fitted squashing (damped by the head's P(neutral), so plain statements score low);
* ``language_dimensions.json``: how each of the 53 dimensions is made from those outputs.

A recipe may gate an input by another's absence: ``product`` of it and ``complement`` (1 - x) of
the suppressor, with the product weight as the gate's strength.

An input name in the dimensions file is a GoEmotions label (``"joy"``), a prototype
(``"proto:Awe"``) or a sentiment valence (``"valence:positive"`` = P(pos) / (P(pos) + P(neg))).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from mien.errors import ModelNotAvailableError
from mien.taxonomy import EMOTIONS_53

__all__ = ["ASSETS", "LanguageHeads", "combine", "sentiment_levels", "vader_features"]

ASSETS = Path(__file__).with_name("assets")
_Floats = npt.NDArray[np.float64]
_EPS = 1e-6

# Nine-level sentiment: each 3-class probability is spread over the levels as a discretised
# normal. Neutral sits at 5; positive at 6..9 and negative at 4..1, placed by intensity.
_NEUTRAL_LEVEL, _NEUTRAL_SD = 5.0, 0.7
_POLAR_SD = 0.9
_LEVELS = np.arange(1, 10, dtype=np.float64)


def vader_features(texts: Sequence[str]) -> _Floats:
    """VADER ``neg, neu, pos, compound`` per text, the lexicon half of the sentiment features."""
    analyzer = _vader()
    rows = [analyzer.polarity_scores(text) for text in texts]
    return np.array([[r["neg"], r["neu"], r["pos"], r["compound"]] for r in rows]).reshape(-1, 4)


_ANALYZER: list[SentimentIntensityAnalyzer] = []


def _vader() -> SentimentIntensityAnalyzer:
    if not _ANALYZER:  # loading the lexicon takes ~0.1 s: once per process
        _ANALYZER.append(SentimentIntensityAnalyzer())
    return _ANALYZER[0]


def combine(spec: Any, inputs: dict[str, _Floats]) -> _Floats:
    """Evaluate one dimension recipe (a name, or ``{"op", "inputs", "weights"}``) per row."""
    if isinstance(spec, str):
        return inputs[spec]
    values = [combine(item, inputs) for item in spec["inputs"]]
    weights = spec.get("weights") or [1.0] * len(values)
    op = spec["op"]
    if op == "identity":
        return values[0]
    if op == "complement":  # absence of a cause, to gate another input by it through "product"
        return 1.0 - values[0]
    if op == "noisy_or":  # at least one cause present: 1 - prod(1 - w x)
        keep = np.ones_like(values[0])
        for value, weight in zip(values, weights, strict=True):
            keep = keep * (1.0 - weight * value)
        return 1.0 - keep
    if op == "geometric_mean":  # all causes present, weighted
        logs = sum(w * np.log(np.maximum(v, _EPS)) for v, w in zip(values, weights, strict=True))
        return np.asarray(np.exp(logs / sum(weights)))
    if op == "product":
        out = np.ones_like(values[0])
        for value, weight in zip(values, weights, strict=True):
            out = out * np.power(np.maximum(value, 0.0), weight)
        return out
    raise ValueError(f"unknown dimension op {op!r}")


def sentiment_levels(
    probs: _Floats, positive_intensity: _Floats, negative_intensity: _Floats
) -> _Floats:
    """Spread P(neg), P(neu), P(pos) over levels 1..9.

    A polar class's mass is centred between the midpoint and the extreme by its intensity in
    [0, 1]: positive at ``6 + 3 I+``, negative at ``4 - 3 I-``.
    """
    centres = [4.0 - 3.0 * negative_intensity, np.full(len(probs), _NEUTRAL_LEVEL)]
    centres.append(6.0 + 3.0 * positive_intensity)
    spreads = (_POLAR_SD, _NEUTRAL_SD, _POLAR_SD)
    out = np.zeros((len(probs), len(_LEVELS)))
    for k, (centre, spread) in enumerate(zip(centres, spreads, strict=True)):
        bumps = np.exp(-0.5 * ((_LEVELS[None, :] - centre[:, None]) / spread) ** 2)
        out += probs[:, k : k + 1] * bumps / bumps.sum(axis=1, keepdims=True)
    return out


@dataclass(frozen=True)
class _Prototypes:
    """One linear direction per description-based dimension, z-scored on GoEmotions dev."""

    names: list[str]
    weight: _Floats  # (dim, k): x @ weight + bias is the dev z-score
    bias: _Floats
    slope: _Floats  # score = sigmoid(slope * (z - z_half)) * (1 - P(neutral)) ** gate
    z_half: _Floats
    gate: float

    def scores(self, embeddings: _Floats, neutral: _Floats) -> _Floats:
        z = embeddings @ self.weight + self.bias
        damping = np.power(1.0 - neutral, self.gate)[:, None]
        return _sigmoid(self.slope * (z - self.z_half)) * damping


class LanguageHeads:
    """The trained heads and the 53-dimension recipes, loaded once from the assets."""

    def __init__(self, heads: Path | None = None, dimensions: Path | None = None) -> None:
        """Load ``language_heads.npz`` and ``language_dimensions.json`` (default: packaged)."""
        heads = heads or ASSETS / "language_heads.npz"
        dimensions = dimensions or ASSETS / "language_dimensions.json"
        if not heads.is_file():
            raise ModelNotAvailableError(
                f"the language heads {heads} are missing; run training/train_language.py"
            )
        with np.load(heads, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        self.encoder = str(arrays["encoder"])
        self.labels = [str(x) for x in arrays["labels"]]
        layers = sum(1 for key in arrays if key.startswith("emo_w"))
        self._layers = [(arrays[f"emo_w{i}"], arrays[f"emo_b{i}"]) for i in range(layers)]
        self._cal = (arrays["cal_a"], arrays["cal_b"])
        self._sent = (arrays["sent_w"], arrays["sent_b"])
        self._protos = _Prototypes(
            [str(x) for x in arrays["proto_names"]],
            arrays["proto_weight"],
            arrays["proto_bias"],
            arrays["proto_slope"],
            arrays["proto_z_half"],
            float(arrays["proto_neutral_gate"]),
        )
        self._neutral = self.labels.index("neutral")
        self._positive = [self.labels.index(x) for x in arrays["positive_labels"]]
        self._negative = [self.labels.index(x) for x in arrays["negative_labels"]]
        recipes = json.loads(dimensions.read_text(encoding="utf-8"))["dimensions"]
        self.recipes = {item["name"]: item for item in recipes}
        if list(self.recipes) != list(EMOTIONS_53):
            raise ModelNotAvailableError(f"{dimensions} does not list the 53 dimensions in order")

    def label_logits(self, embeddings: _Floats) -> _Floats:
        """Raw head outputs (before calibration) for the 28 GoEmotions labels."""
        hidden = embeddings.astype(np.float64)
        for i, (weight, bias) in enumerate(self._layers):
            hidden = hidden @ weight + bias
            if i < len(self._layers) - 1:
                hidden = np.maximum(hidden, 0.0)
        return hidden

    def label_probs(self, embeddings: _Floats) -> _Floats:
        """Calibrated P(label) for the 28 GoEmotions labels."""
        slope, offset = self._cal
        return _sigmoid(slope * self.label_logits(embeddings) + offset)

    def sentiment_probs(self, embeddings: _Floats, vader: _Floats) -> _Floats:
        """P(negative), P(neutral), P(positive) from [e5 ‖ VADER]."""
        weight, bias = self._sent
        logits = np.hstack([embeddings, vader]) @ weight + bias
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        return np.asarray(probs / probs.sum(axis=1, keepdims=True))

    def predict(self, texts: Sequence[str], embeddings: _Floats) -> tuple[_Floats, _Floats]:
        """The 53 emotion scores and the 9 sentiment level probabilities of each text."""
        vader = vader_features(texts)
        labels = self.label_probs(embeddings)
        sentiment = self.sentiment_probs(embeddings, vader)
        inputs = {name: labels[:, i] for i, name in enumerate(self.labels)}
        protos = self._protos.scores(embeddings, labels[:, self._neutral])
        inputs.update({f"proto:{n}": protos[:, i] for i, n in enumerate(self._protos.names)})
        polar = np.maximum(sentiment[:, 0] + sentiment[:, 2], _EPS)
        inputs["valence:positive"] = sentiment[:, 2] / polar
        inputs["valence:negative"] = sentiment[:, 0] / polar
        emotions = np.stack(
            [combine(self.recipes[name]["recipe"], inputs) for name in EMOTIONS_53], axis=1
        )
        levels = sentiment_levels(sentiment, *self._intensities(labels, vader))
        return np.clip(emotions, 0.0, 1.0), levels

    def _intensities(self, labels: _Floats, vader: _Floats) -> tuple[_Floats, _Floats]:
        """How strongly positive and negative a text is: VADER strength ⊕ strongest emotion."""
        compound = vader[:, 3]
        strongest_pos = labels[:, self._positive].max(axis=1)
        strongest_neg = labels[:, self._negative].max(axis=1)
        positive = 1.0 - (1.0 - np.maximum(compound, 0.0)) * (1.0 - strongest_pos)
        negative = 1.0 - (1.0 - np.maximum(-compound, 0.0)) * (1.0 - strongest_neg)
        return positive, negative


def _sigmoid(x: _Floats) -> _Floats:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -40.0, 40.0))))
