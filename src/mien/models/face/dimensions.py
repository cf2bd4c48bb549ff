"""The 48 emotions, the FACS items and the descriptions, from measured signals and a data file.

The recipe, ``assets/face_dimensions.json``, holds every parameter: which blendshapes make each
AU, the EMFACS and circumplex tables, and for each emotion and description a bias and weighted
terms, grounded in published facial-expression prototypes (EMFACS, Cordaro et al. 2018, PSPI).
A score is ``sigmoid(bias + Σ weight·term)``, so it lies in (0, 1) and moves with every signal it
names. A trained head can replace the hand-set weights by writing the same file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from mien.models.face.features import Signals
from mien.taxonomy import EMOTIONS_48

__all__ = ["FaceScores", "load_recipe", "score_faces"]

RECIPE_PATH = Path(__file__).parent.parent / "assets" / "face_dimensions.json"


class FaceScores:
    """Scores for ``n`` faces, each as ``(n, k)`` with its names in API order."""

    def __init__(self, signals: Signals, recipe: Mapping[str, Any]) -> None:
        """Score every face on the recipe's emotions, FACS items and descriptions."""
        self.emotion_names: tuple[str, ...] = EMOTIONS_48
        self.emotions = _linear(signals, recipe["dimensions"])
        self.facs_names = tuple(item["name"] for item in recipe["facs"])
        self.facs = np.stack([signals[item["id"]] for item in recipe["facs"]], axis=1)
        self.description_names = tuple(item["name"] for item in recipe["descriptions"])
        self.descriptions = _linear(signals, recipe["descriptions"])


@cache
def load_recipe(path: Path = RECIPE_PATH) -> Mapping[str, Any]:
    """The parsed recipe, checked against the 48 names in API order."""
    recipe: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    names = tuple(d["name"] for d in recipe["dimensions"])
    if names != EMOTIONS_48:
        raise ValueError(f"{path}: dimensions must be the 48 emotions in API order")
    return recipe


def score_faces(signals: Signals, recipe: Mapping[str, Any] | None = None) -> FaceScores:
    """Scores for the faces whose signals were measured by :func:`features.measure`."""
    return FaceScores(signals, recipe or load_recipe())


def _linear(signals: Signals, specs: Sequence[Mapping[str, Any]]) -> np.ndarray:
    n = len(next(iter(signals.values())))
    logits = np.empty((n, len(specs)))
    for j, spec in enumerate(specs):
        total = np.full(n, float(spec["bias"]))
        for term, weight in spec["terms"].items():
            total += weight * _term(signals, term)
        logits[:, j] = total
    return 1.0 / (1.0 + np.exp(-logits))


def _term(signals: Signals, term: str) -> np.ndarray:
    """``A*B`` = both present (min), ``A|B`` = either (max), else one signal."""
    if "*" in term:
        both: np.ndarray = np.minimum.reduce([signals[name] for name in term.split("*")])
        return both
    if "|" in term:
        either: np.ndarray = np.maximum.reduce([signals[name] for name in term.split("|")])
        return either
    return signals[term]
