"""The facemesh model: MediaPipe landmarks sent by the client in, 48 scores per face out.

The client ran MediaPipe Face Mesh itself, so there is no image: normalised landmarks get their
image's aspect back (:meth:`FaceMesher.restore_aspect`), then the blendshapes are computed
from the landmarks with the same Blendshapes V2 model the face model uses, and the same recipe
turns them into the 48 dimensions. Without an image the learned 7-class nets cannot run, so the
expression probabilities come from the EMFACS estimate alone (see docs/models/face.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mien.media import MediaItem, MediaKind, load_facemesh
from mien.models.face.dimensions import load_recipe, score_faces
from mien.models.face.features import measure
from mien.models.face.mesh import FaceMesher
from mien.schemas import EmotionScore, FacemeshPrediction, Group, InferenceRequest, ModelBlock
from mien.settings import Settings
from mien.taxonomy import EMOTIONS_48

__all__ = ["FacemeshModel"]


class FacemeshModel:
    """48 emotions from client-sent face meshes."""

    name = "facemesh"
    kinds: frozenset[MediaKind] = frozenset({"facemesh"})

    def __init__(self, settings: Settings) -> None:
        """Load the blendshape model and the recipe once per process."""
        self.mesher = FaceMesher(settings)
        self.recipe = load_recipe()

    def predict_landmarks(self, landmarks: np.ndarray) -> list[FacemeshPrediction]:
        """One prediction per face of ``landmarks``, shape ``(n, 478, 3)``."""
        if len(landmarks) == 0:
            return []
        landmarks = self.mesher.restore_aspect(landmarks)
        blendshapes = self.mesher.blendshapes(landmarks)
        pose = np.stack([self.mesher.head_pose(face) for face in landmarks])
        signals = measure(blendshapes, landmarks, pose, None, self.recipe)
        emotions = score_faces(signals, self.recipe).emotions
        return [
            FacemeshPrediction(
                emotions=[
                    EmotionScore(name=name, score=float(v))
                    for name, v in zip(EMOTIONS_48, row, strict=True)
                ]
            )
            for row in emotions
        ]

    def predict_file(
        self, item: MediaItem, request: InferenceRequest, outputs: Path | None = None
    ) -> ModelBlock:
        """Predict on a facemesh JSON file; its faces form one ``unknown`` group, as in v0."""
        predictions = self.predict_landmarks(load_facemesh(item.path))
        groups = [Group(id="unknown", predictions=list(predictions))] if predictions else []
        return ModelBlock(metadata=None, grouped_predictions=groups)
