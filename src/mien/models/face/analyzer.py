"""One image in, every face's box, probability and scores out: the stages run in order, batched.

Each stage makes one model call per image for all its faces (the landmark and expression nets take
a batch), so a group photo costs one detector run plus one batched call per stage, not a pipeline
run per face.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from mien.models.face.detect import FaceDetector
from mien.models.face.dimensions import FaceScores, load_recipe, score_faces
from mien.models.face.expression import ExpressionNets
from mien.models.face.features import measure
from mien.models.face.hands import HAND_ITEMS, HandFinder, face_in_hands, hand_items
from mien.models.face.mesh import FaceMesh, FaceMesher
from mien.settings import Settings
from mien.taxonomy import FACE_DESCRIPTIONS

__all__ = ["FaceAnalyzer", "FaceReading", "face_prob"]

FACE_IN_HANDS = "Face in hands"
_CANDIDATE_PROB = 0.6
"""Detections less likely than this are never faces: above it no false positive was seen on the
test media, below it several were (docs/models/face.md)."""


@dataclass(frozen=True)
class FaceReading:
    """What the face model measured on one face in one image."""

    box: tuple[float, float, float, float]
    """x, y, w, h in source pixels: the extent of the face mesh."""
    prob: float
    mesh: FaceMesh
    emotions: np.ndarray
    """48 scores in ``EMOTIONS_48`` order."""
    facs: np.ndarray
    """Scores of the measurable FACS items, in :attr:`FaceAnalyzer.facs_names` order."""
    descriptions: np.ndarray
    """Scores of the measurable descriptions, in :attr:`FaceAnalyzer.description_names` order."""


class FaceAnalyzer:
    """The loaded face stages, shared by the batch and streaming face models."""

    def __init__(self, settings: Settings) -> None:
        """Load every stage's weights once."""
        self.detector = FaceDetector(settings)
        self.mesher = FaceMesher(settings)
        self.expressions = ExpressionNets(settings)
        self.hands = HandFinder(settings)
        self.recipe = load_recipe()
        self.facs_names = tuple(item["name"] for item in self.recipe["facs"]) + HAND_ITEMS
        """FACS items in v0's order: the recipe's (from the mesh), then the hand items."""
        recipe_descriptions = [item["name"] for item in self.recipe["descriptions"]]
        self.description_names = tuple(
            n for n in FACE_DESCRIPTIONS if n in recipe_descriptions or n == FACE_IN_HANDS
        )
        """Descriptions in v0's order: the recipe's and "Face in hands"."""
        self._description_order = [
            recipe_descriptions.index(n) if n != FACE_IN_HANDS else len(recipe_descriptions)
            for n in self.description_names
        ]
        self.timings: dict[str, float] = defaultdict(float)
        """Seconds spent per stage since loading, for the benchmark."""

    def read(
        self,
        image: np.ndarray,
        *,
        prob_threshold: float = 0.0,
        min_face_size: float = 0.0,
        details: bool = False,
    ) -> list[FaceReading]:
        """Every face in ``image`` (RGB ``uint8``) at least this likely and this large.

        ``details`` (FACS or descriptions asked for) also looks for hands on the faces; without
        it the hand items and "Face in hands" are 0 and the hand models do not run.
        """
        with self._timed("detect"):
            detections = self.detector.detect(image, min_prob=_CANDIDATE_PROB)
        if not detections:
            return []
        with self._timed("mesh"):
            meshes = self.mesher.mesh(image, detections)
        scored = [
            (face_prob(d.prob, m.presence), m) for d, m in zip(detections, meshes, strict=True)
        ]
        kept = [
            (prob, m)
            for prob, m in scored
            if prob >= prob_threshold and min(m.box[2], m.box[3]) >= min_face_size
        ]
        if not kept:
            return []
        probs, kept_meshes = zip(*kept, strict=True)
        boxes = [m.box for m in kept_meshes]
        with self._timed("expression"):
            nets = self.expressions.predict(image, boxes)
        with self._timed("dimensions"):
            scores = self.score(list(kept_meshes), nets)
        landmarks = np.stack([m.landmarks for m in kept_meshes])
        items = np.zeros((len(kept_meshes), len(HAND_ITEMS)))
        in_hands = np.zeros(len(kept_meshes))
        if details:
            with self._timed("hands"):
                hands = self.hands.find(image)
                if hands:
                    items, in_hands = hand_items(hands, landmarks), face_in_hands(hands, landmarks)
        facs = np.concatenate([scores.facs, items], axis=1)
        descriptions = np.concatenate([scores.descriptions, in_hands[:, None]], axis=1)
        descriptions = descriptions[:, self._description_order]
        return [
            FaceReading(
                box=mesh.box,
                prob=prob,
                mesh=mesh,
                emotions=scores.emotions[i],
                facs=facs[i],
                descriptions=descriptions[i],
            )
            for i, (prob, mesh) in enumerate(zip(probs, kept_meshes, strict=True))
        ]

    def score(self, meshes: list[FaceMesh], nets: np.ndarray | None) -> FaceScores:
        """The 48 emotions, FACS items and descriptions of measured meshes."""
        signals = measure(
            np.stack([m.blendshapes for m in meshes]),
            np.stack([m.landmarks for m in meshes]),
            np.stack([m.pose for m in meshes]),
            nets,
            self.recipe,
        )
        return score_faces(signals, self.recipe)

    @contextmanager
    def _timed(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] += time.perf_counter() - start


def face_prob(detector: float, presence: float) -> float:
    """Probability that a detection is a face, from the two models that looked at it.

    The detector and the landmark model's face-presence head judge the same crop independently;
    their evidence is combined as a noisy-OR, ``1 - (1 - p_detector)(1 - p_presence)``, so two
    confident models give the ~0.999 that v0's default ``prob_threshold`` of 0.99 expects, while a
    crop that neither model believes stays low.
    """
    return 1.0 - (1.0 - detector) * (1.0 - presence)
