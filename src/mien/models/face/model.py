"""The batch face model: images and videos in, v0's face block out.

Videos are decoded frame by frame at ``fps_pred`` (:func:`mien.media.iter_frames`), so memory does
not grow with their length. Faces are grouped by id: ``unknown`` unless ``identify_faces``, then
``face_0``, ``face_1``… from :class:`FaceTracker`. With ``save_faces`` each face crop is written
to the file's output folder, which the job puts into its artifacts zip.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image

from mien.media import MediaItem, MediaKind
from mien.media.image import load_image
from mien.media.video import iter_frames
from mien.models.face.analyzer import FaceAnalyzer, FaceReading
from mien.models.face.identity import FaceEmbedder
from mien.models.face.tracking import FaceTracker
from mien.schemas import (
    BoundingBox,
    DescriptionsScore,
    EmotionScore,
    Face,
    FacePrediction,
    FacsScore,
    Group,
    InferenceRequest,
    ModelBlock,
)
from mien.settings import Settings
from mien.taxonomy import EMOTIONS_48

__all__ = ["FaceModel", "face_scores", "frames_of", "save_crop"]

_CROP_MARGIN = 0.2
"""Saved crops reach this far past the box on each side, so the whole head shows."""


class FaceModel:
    """Face expression over images and video frames."""

    name = "face"
    kinds: frozenset[MediaKind] = frozenset({"image", "video"})

    def __init__(self, settings: Settings) -> None:
        """Load the face stages once per process."""
        self.settings = settings
        self.analyzer = FaceAnalyzer(settings)

    @cached_property
    def embedder(self) -> FaceEmbedder:
        """The identity net, loaded on the first request that identifies faces."""
        return FaceEmbedder(self.settings)

    def predict_file(
        self, item: MediaItem, request: InferenceRequest, outputs: Path | None = None
    ) -> ModelBlock:
        """Predict on every sampled frame of an image or video."""
        config = (request.models.face if request.models else None) or Face()
        tracker = FaceTracker(self.embedder) if config.identify_faces else None
        groups: dict[str, list[FacePrediction]] = {}
        for index, time_s, image in frames_of(item, config.fps_pred):
            faces = self.read(image, config)
            ids = tracker.assign(image, time_s, faces) if tracker else ["unknown"] * len(faces)
            for face_id, face in zip(ids, faces, strict=True):
                groups.setdefault(face_id, []).append(self.prediction(face, index, time_s, config))
                if config.save_faces and outputs is not None:
                    save_crop(image, face.box, outputs / "faces" / f"{face_id}_frame{index}.jpg")
        return ModelBlock(
            metadata=None,
            grouped_predictions=[Group(id=k, predictions=list(v)) for k, v in groups.items()],
        )

    def read(self, image: np.ndarray, config: Face) -> list[FaceReading]:
        """The faces of one frame that pass ``config``'s thresholds; hands only for FACS."""
        return self.analyzer.read(
            image,
            prob_threshold=config.prob_threshold,
            min_face_size=config.min_face_size,
            details=config.facs is not None or config.descriptions is not None,
        )

    def prediction(
        self, face: FaceReading, frame: int, time_s: float, config: Face
    ) -> FacePrediction:
        """One face as v0's batch prediction."""
        emotions, facs, descriptions = face_scores(self.analyzer, face, config)
        x, y, w, h = face.box
        return FacePrediction(
            frame=frame,
            time=time_s,
            prob=face.prob,
            box=BoundingBox(x=x, y=y, w=w, h=h),
            emotions=emotions,
            facs=facs,
            descriptions=descriptions,
        )


def face_scores(
    analyzer: FaceAnalyzer, face: FaceReading, config: Face
) -> tuple[list[EmotionScore], list[FacsScore] | None, list[DescriptionsScore] | None]:
    """The score lists of one face, FACS and descriptions only when asked for (``{}``)."""
    emotions = _scores(EmotionScore, EMOTIONS_48, face.emotions)
    facs = _scores(FacsScore, analyzer.facs_names, face.facs) if config.facs is not None else None
    descriptions = (
        _scores(DescriptionsScore, analyzer.description_names, face.descriptions)
        if config.descriptions is not None
        else None
    )
    return emotions, facs, descriptions


_Score = TypeVar("_Score", EmotionScore, FacsScore, DescriptionsScore)


def _scores(kind: type[_Score], names: Sequence[str], values: np.ndarray) -> list[_Score]:
    return [kind(name=name, score=float(v)) for name, v in zip(names, values, strict=True)]


def frames_of(item: MediaItem, fps_pred: float) -> Iterator[tuple[int, float, np.ndarray]]:
    """``(frame index, time in s, RGB image)``; an image is frame 0 at time 0."""
    if item.kind == "image":
        yield 0, 0.0, load_image(item.path)
        return
    for frame in iter_frames(item.path, fps_pred):
        yield frame.index, frame.time_s, frame.image


def save_crop(image: np.ndarray, box: tuple[float, float, float, float], path: Path) -> None:
    """Write the face with a margin as a JPEG, clipped to the image."""
    x, y, w, h = box
    height, width = image.shape[:2]
    left, top = max(int(x - _CROP_MARGIN * w), 0), max(int(y - _CROP_MARGIN * h), 0)
    right = min(int(x + w + _CROP_MARGIN * w), width)
    bottom = min(int(y + h + _CROP_MARGIN * h), height)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image[top:bottom, left:right]).save(path, quality=90)
