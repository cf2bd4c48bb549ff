"""FaceMesh V2 landmarks, Blendshapes V2 and head pose, as MediaPipe's face landmarker runs them.

The models come from MediaPipe's ``face_landmarker.task`` and run on LiteRT; the pre- and
post-processing around them is re-done here so that any detector can feed the landmark model
(MediaPipe's own short-range detector misses small faces). Each face is cropped like MediaPipe's
``DetectionsToRectsCalculator`` + ``RectTransformationCalculator`` do it: a square 1.5 times the
detection box's long side, rotated so the eyes are level, warped to 256 x 256; landmarks are
mapped back through the same affine transform. All faces of an image go through the landmark
model in one batch.

Head pose convention (degrees, 0, 0, 0 = upright and facing the camera):
yaw > 0 when the head turns to the subject's left (the nose points towards the image's right),
pitch > 0 when the head tilts up (chin raised), roll > 0 when the head leans counter-clockwise
as seen in the image (the top of the head moves towards the image's left).
"""

from __future__ import annotations

import functools
import math
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mien.models.face.canonical import CanonicalFace, parse_geometry_metadata
from mien.models.face.warp import warp_square
from mien.models.tflite import TFLiteModel
from mien.settings import Settings
from mien.weights import fetch

if TYPE_CHECKING:
    from mien.models.face.detect import Detection

__all__ = ["BLENDSHAPE_NAMES", "FaceMesh", "FaceMesher"]

BLENDSHAPE_NAMES: tuple[str, ...] = (
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
    "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft",
    "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight",
    "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft",
    "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen",
    "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft",
    "mouthFrownRight", "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight", "mouthRollLower",
    "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight",
    "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "noseSneerLeft", "noseSneerRight",
)  # fmt: skip
"""The blendshape model's 52 outputs, in order (ARKit names plus ``_neutral``)."""

_BLENDSHAPE_INPUT_IDS = np.array([
    0, 1, 4, 5, 6, 7, 8, 10, 13, 14, 17, 21, 33, 37, 39, 40, 46, 52, 53, 54, 55, 58, 61, 63, 65,
    66, 67, 70, 78, 80, 81, 82, 84, 87, 88, 91, 93, 95, 103, 105, 107, 109, 127, 132, 133, 136,
    144, 145, 146, 148, 149, 150, 152, 153, 154, 155, 157, 158, 159, 160, 161, 162, 163, 168, 172,
    173, 176, 178, 181, 185, 191, 195, 197, 234, 246, 249, 251, 263, 267, 269, 270, 276, 282, 283,
    284, 285, 288, 291, 293, 295, 296, 297, 300, 308, 310, 311, 312, 314, 317, 318, 321, 323, 324,
    332, 334, 336, 338, 356, 361, 362, 365, 373, 374, 375, 377, 378, 379, 380, 381, 382, 384, 385,
    386, 387, 388, 389, 390, 397, 398, 400, 402, 405, 409, 415, 454, 466, 468, 469, 470, 471, 472,
    473, 474, 475, 476, 477,
])  # fmt: skip
"""The 146 landmarks the blendshape model reads (MediaPipe's ``kLandmarksSubsetIdxs``)."""

_GEOMETRY = "geometry_pipeline_metadata_landmarks.binarypb"
_CROP_PX = 256  # the landmark model's input side
_ROI_SCALE = 1.5  # MediaPipe's RectTransformationCalculator scale for faces


@dataclass(frozen=True)
class FaceMesh:
    """One face's landmarks, blendshapes and pose, in source-image pixels."""

    landmarks: np.ndarray  # (478, 3) float32: x, y, z in source pixels (z: relative depth)
    presence: float  # the landmark model's face-presence probability
    blendshapes: np.ndarray  # (52,) float32 in BLENDSHAPE_NAMES order
    pose: np.ndarray  # (3,) float32 yaw, pitch, roll in degrees (module docstring: signs)
    box: tuple[float, float, float, float]  # x, y, w, h: tight box of the 2-D landmarks


@dataclass(frozen=True)
class _Roi:
    """A rotated square crop: centre and side in source pixels, eye-line angle in radians."""

    centre_x: float
    centre_y: float
    side: float
    angle: float

    def affine(self) -> np.ndarray:
        """(2, 3) map from crop pixel coordinates (0..256) to source pixel coordinates."""
        scale = self.side / _CROP_PX
        cos, sin = math.cos(self.angle) * scale, math.sin(self.angle) * scale
        half = _CROP_PX / 2
        return np.array([
            [cos, -sin, self.centre_x - half * (cos - sin)],
            [sin, cos, self.centre_y - half * (sin + cos)],
        ])  # fmt: skip


def _roi_from_detection(detection: Detection) -> _Roi:
    """The crop MediaPipe's face landmarker derives from a BlazeFace detection.

    Centred on the box, 1.5 times its long side, turned by the angle of the line from the right
    eye keypoint to the left one (MediaPipe's rotation vector 0 -> 1, target angle 0).
    """
    x, y, w, h = detection.box
    keypoints = np.asarray(detection.keypoints, dtype=np.float64)
    dx, dy = (keypoints[1] - keypoints[0]).tolist()
    return _Roi(x + w / 2, y + h / 2, max(w, h) * _ROI_SCALE, math.atan2(dy, dx))


def _landmark_box(landmarks: np.ndarray) -> tuple[float, float, float, float]:
    low, high = landmarks[:, :2].min(axis=0), landmarks[:, :2].max(axis=0)
    return float(low[0]), float(low[1]), float(high[0] - low[0]), float(high[1] - low[1])


class FaceMesher:
    """Landmarks, blendshapes and head pose for detected faces."""

    def __init__(self, settings: Settings) -> None:
        """Load the landmark and blendshape models and the canonical face from the task file."""
        path = fetch("face-landmarker", settings)
        with zipfile.ZipFile(path) as task:
            landmarks = task.read("face_landmarks_detector.tflite")
            blendshapes = task.read("face_blendshapes.tflite")
        threads = settings.model_threads
        self._landmarker = TFLiteModel(landmarks, threads=threads)
        self._blendshaper = TFLiteModel(blendshapes, threads=threads, batchable=False)
        self._canonical = _load_canonical(path)

    def mesh(self, image: np.ndarray, detections: Sequence[Detection]) -> list[FaceMesh]:
        """Mesh every detected face of ``image`` (RGB uint8, H x W x 3), in one model call."""
        if not detections:
            return []
        rois = [_roi_from_detection(d) for d in detections]
        affines = [roi.affine() for roi in rois]
        crops = (
            np.stack([warp_square(image, a, _CROP_PX) for a in affines]).astype(np.float32) / 255.0
        )
        outputs = self._landmarker(crops)
        points = next(o for o in outputs if o.size == len(rois) * 478 * 3)
        logits = next(o for o in outputs if o.size == len(rois) and o.ndim == 4)
        points = points.reshape(len(rois), 478, 3).astype(np.float64)
        landmarks = np.empty_like(points)
        for i, (roi, affine) in enumerate(zip(rois, affines, strict=True)):
            landmarks[i, :, :2] = points[i, :, :2] @ affine[:, :2].T + affine[:, 2]
            landmarks[i, :, 2] = points[i, :, 2] * (roi.side / _CROP_PX)
        presence = 1.0 / (1.0 + np.exp(-logits.reshape(-1).astype(np.float64)))
        scores = self._blendshape_batch(landmarks)
        return [
            FaceMesh(
                landmarks=lm.astype(np.float32),
                presence=float(p),
                blendshapes=bs,
                pose=_fit_pose(lm, self._canonical),
                box=_landmark_box(lm),
            )
            for lm, p, bs in zip(landmarks, presence, scores, strict=True)
        ]

    def blendshapes(
        self, landmarks: np.ndarray, image_size: tuple[int, int] | None = None
    ) -> np.ndarray:
        """Blendshapes of (n, 478, 3) landmarks, in pixels or normalised -> (n, 52).

        The model itself ignores the points' scale and position (checked: pixels, x1000,
        x0.1, shifted and MediaPipe's normalised coordinates of a square image all give the
        same scores), but not a different scale of x and y: normalised landmarks of a
        non-square image must come with its ``image_size`` (width, height), as in MediaPipe,
        or the face is squashed and scores move by up to 0.8.
        """
        points = np.asarray(landmarks, dtype=np.float64).reshape(-1, 478, 3)
        if image_size is not None:
            points = points * np.array([image_size[0], image_size[1], image_size[0]])
        return self._blendshape_batch(points)

    def restore_aspect(self, landmarks: np.ndarray) -> np.ndarray:
        """Client landmarks of ``(n, 478, 3)`` with the image's aspect put back.

        MediaPipe's normalised landmarks divide x (and z) by the image width and y by its
        height, so a face from a 16:9 frame arrives squashed; the client sends no image size.
        Each face's width-to-height factor is estimated as the one that lets MediaPipe's rigid
        canonical face fit best, and snapped to the nearest common camera aspect
        (:data:`CAMERA_ASPECTS`): on the test faces the estimate fell within ±12 % of the truth,
        so the snap recovers 1:1, 4:3 and 16:9 exactly. Pixel landmarks pass unchanged.
        """
        points = np.asarray(landmarks, dtype=np.float64).reshape(-1, 478, 3)
        if not len(points) or np.abs(points[..., :2]).max() > _NORMALISED_MAX:
            return points
        aspects = [_snap(_fit_aspect(face, self._canonical)) for face in points]
        restored: np.ndarray = points * np.array([[a, 1.0, a] for a in aspects])[:, None, :]
        return restored

    def head_pose(self, landmarks: np.ndarray) -> np.ndarray:
        """Yaw, pitch, roll in degrees of (478, 3) landmarks (module docstring: sign convention).

        The fit removes scale and position, so pixels and MediaPipe's normalised coordinates of
        a square image agree; normalised landmarks of other images need multiplying by (width,
        height, width) first, or the squashed face reads as pitched.
        """
        return _fit_pose(landmarks, self._canonical)

    def _blendshape_batch(self, landmarks: np.ndarray) -> np.ndarray:
        if not len(landmarks):
            return np.zeros((0, len(BLENDSHAPE_NAMES)), dtype=np.float32)
        points = landmarks[:, _BLENDSHAPE_INPUT_IDS, :2]
        # Centre and scale to ~100 px: the model is invariant to both, float32 is not.
        points = points - points.mean(axis=1, keepdims=True)
        spread = np.sqrt((points**2).sum(axis=2).mean(axis=1))
        points = points * (100.0 / np.maximum(spread, 1e-12))[:, None, None]
        return self._blendshaper(points.astype(np.float32))[0].astype(np.float32)


CAMERA_ASPECTS = (9 / 16, 2 / 3, 3 / 4, 1.0, 4 / 3, 3 / 2, 16 / 9)
"""Width / height of the frames client landmarks usually come from."""
_NORMALISED_MAX = 1.5
"""Landmarks all within this of the origin are MediaPipe's normalised coordinates."""
_ASPECT_BIAS = 0.9
"""The best-fit factor comes out about 10 % low on real faces (narrower than the canonical
one; measured on the eight test faces at 1:1, 4:3 and 16:9), so it is divided by this."""
_ASPECT_GRID = np.exp(np.linspace(np.log(0.3), np.log(3.0), 231))


def _fit_aspect(face: np.ndarray, canonical: CanonicalFace) -> float:
    """The x (and z) stretch under which the rigid canonical face fits ``face`` best."""
    ids, weights = canonical.basis_ids, canonical.basis_weights / canonical.basis_weights.sum()
    model = canonical.vertices[ids] - weights @ canonical.vertices[ids]
    errors = []
    for stretch in _ASPECT_GRID:
        observed = face[ids] * np.array([stretch, -1.0, -stretch])
        observed = observed - weights @ observed
        u, _, vt = np.linalg.svd((model * weights[:, None]).T @ observed)
        flip = np.diag([1.0, 1.0, float(np.sign(np.linalg.det(u @ vt)))])
        turned = model @ (u @ flip @ vt)
        scale = (weights * (turned * observed).sum(1)).sum() / (weights * (turned**2).sum(1)).sum()
        residual = (weights * ((observed - scale * turned) ** 2).sum(1)).sum()
        errors.append(np.sqrt(residual) / max(abs(scale), 1e-12))
    return float(_ASPECT_GRID[int(np.argmin(errors))]) / _ASPECT_BIAS


def _snap(aspect: float) -> float:
    """The common camera aspect nearest to ``aspect`` (on a log scale)."""
    return min(CAMERA_ASPECTS, key=lambda common: abs(np.log(aspect / common)))


def _fit_pose(landmarks: np.ndarray, canonical: CanonicalFace) -> np.ndarray:
    """Yaw, pitch, roll of the weighted least-squares rotation canonical face -> landmarks."""
    ids, weights = canonical.basis_ids, canonical.basis_weights
    # Landmarks are x right, y down, z away from the camera; the canonical face is y up, z to us.
    observed = np.asarray(landmarks, dtype=np.float64)[ids] * np.array([1.0, -1.0, -1.0])
    model = canonical.vertices[ids]
    w = weights / weights.sum()
    observed = observed - w @ observed
    model = model - w @ model
    u, _, vt = np.linalg.svd((model * w[:, None]).T @ observed)
    flip = np.diag([1.0, 1.0, float(np.sign(np.linalg.det(u @ vt)))])
    rotation = (u @ flip @ vt).T  # observed ~ scale * rotation @ model
    # rotation = Ry(yaw) @ Rx(-pitch) @ Rz(roll)
    yaw = math.atan2(rotation[0, 2], rotation[2, 2])
    pitch = math.asin(float(np.clip(rotation[1, 2], -1.0, 1.0)))
    roll = math.atan2(rotation[1, 0], rotation[1, 1])
    return np.array([math.degrees(yaw), math.degrees(pitch), math.degrees(roll)], np.float32)


@functools.cache
def _load_canonical(task: Path) -> CanonicalFace:
    with zipfile.ZipFile(task) as archive:
        return parse_geometry_metadata(archive.read(_GEOMETRY))
