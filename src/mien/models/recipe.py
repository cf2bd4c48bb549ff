"""Scores from named signals by a recipe kept in a data file: the face, prosody and burst models.

A recipe entry is ``{"bias": b, "terms": {term: weight, ...}}`` and scores
``sigmoid(b + Σ weight · term)``, so every score lies in (0, 1) and moves with each signal it
names. A term is one signal, ``A*B`` (min: both present) or ``A|B`` (max: either present).
Signals are arrays with one value per item (a face, a span of speech), mostly in [0, 1].
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Signals", "derive", "load_recipe", "score"]

Signals = dict[str, np.ndarray]
"""Signal name -> one value per item, shape ``(n,)``."""

ASSETS = Path(__file__).parent / "assets"


def load_recipe(name: str, dimensions: Sequence[str]) -> dict[str, Any]:
    """``assets/<name>_dimensions.json``, checked to list ``dimensions`` in that order."""
    path = ASSETS / f"{name}_dimensions.json"
    recipe: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if tuple(d["name"] for d in recipe["dimensions"]) != tuple(dimensions):
        raise ValueError(f"{path}: dimensions must be the {len(dimensions)} names in API order")
    return recipe


def score(signals: Signals, specs: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """``(n, len(specs))`` scores of ``n`` items, one column per recipe entry."""
    n = len(next(iter(signals.values())))
    logits = np.empty((n, len(specs)))
    for j, spec in enumerate(specs):
        total = np.full(n, float(spec["bias"]))
        for term, weight in spec["terms"].items():
            total += weight * _term(signals, term)
        logits[:, j] = total
    scores: np.ndarray = 1.0 / (1.0 + np.exp(-logits))
    return scores


def derive(signals: Signals, items: Sequence[Mapping[str, Any]]) -> None:
    """Add each item's ``clip(gain · (Σ weight · signal + offset), 0, 1)`` as signal ``id``.

    Items are computed in order, so a later one may use an earlier one (AUs from blendshapes,
    arousal from prosodic cues).
    """
    for item in items:
        raw = sum(w * signals[name] for name, w in item["terms"].items()) + item.get("offset", 0.0)
        signals[item["id"]] = np.clip(item["gain"] * raw, 0.0, 1.0)


def _term(signals: Signals, term: str) -> np.ndarray:
    if "*" in term:
        both: np.ndarray = np.minimum.reduce([signals[name] for name in term.split("*")])
        return both
    if "|" in term:
        either: np.ndarray = np.maximum.reduce([signals[name] for name in term.split("|")])
        return either
    return signals[term]
