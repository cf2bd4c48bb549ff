"""The 48 emotions, the FACS items and the descriptions, from measured signals and a data file.

The recipe, ``assets/face_dimensions.json``, holds every parameter: which blendshapes make each
AU, the EMFACS and circumplex tables, and for each emotion and description a bias and weighted
terms, grounded in published facial-expression prototypes (EMFACS, Cordaro et al. 2018, PSPI).
A score is ``sigmoid(bias + Σ weight·term)``, so it lies in (0, 1) and moves with every signal it
names. A trained head can replace the hand-set weights by writing the same file.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np

from mien.models.recipe import Signals, score
from mien.models.recipe import load_recipe as _load
from mien.taxonomy import EMOTIONS_48

__all__ = ["FaceScores", "load_recipe", "score_faces"]


class FaceScores:
    """Scores for ``n`` faces, each as ``(n, k)`` with its names in API order."""

    def __init__(self, signals: Signals, recipe: Mapping[str, Any]) -> None:
        """Score every face on the recipe's emotions, FACS items and descriptions."""
        self.emotions = score(signals, recipe["dimensions"])
        self.facs = np.stack([signals[item["id"]] for item in recipe["facs"]], axis=1)
        self.descriptions = score(signals, recipe["descriptions"])


@cache
def load_recipe() -> Mapping[str, Any]:
    """The parsed face recipe, checked against the 48 names in API order."""
    return _load("face", EMOTIONS_48)


def score_faces(signals: Signals, recipe: Mapping[str, Any] | None = None) -> FaceScores:
    """Scores for the faces whose signals were measured by :func:`features.measure`."""
    return FaceScores(signals, recipe or load_recipe())
