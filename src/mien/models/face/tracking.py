"""Stable face ids across the frames of a video or a streaming session.

A face keeps its id from frame to frame while its box overlaps where it was (tracking). A face
that left and comes back, or that no box overlap explains, is matched on a signature: the
rotation- and scale-free proportions of its rigid landmarks (eye corners, nose, cheeks, chin)
plus the colour make-up of the face and hair region. Ids are ``face_0``, ``face_1``… in order
of first appearance, as in v0's output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mien.models.face.analyzer import FaceReading

__all__ = ["FaceTracker"]

_RIGID = (33, 133, 362, 263, 1, 168, 6, 98, 327, 234, 454, 10, 152)
"""Mesh points that expressions barely move: eye corners, nose, cheek edges, forehead, chin."""
_MIN_IOU = 0.3
_MAX_GAP_S = 1.0
"""A box overlap only counts as the same face if it was seen this recently."""
_MAX_DISTANCE = 0.45
"""Signature distance beyond which a face is someone new: the same face measured 0.04-0.33 apart
in the test photos (moved, mirrored), different people 0.52 and more."""
_GEOMETRY_SCALE = 0.05
_COLOUR_SCALE = 0.25


@dataclass
class _Track:
    id: str
    box: tuple[float, float, float, float]
    time_s: float
    geometry: np.ndarray
    colour: np.ndarray
    seen: int = field(default=1)


class FaceTracker:
    """Assigns ids to the faces of successive frames; one tracker per video or socket."""

    def __init__(self) -> None:
        """Start with no known faces."""
        self._tracks: list[_Track] = []

    def assign(self, image: np.ndarray, time_s: float, faces: list[FaceReading]) -> list[str]:
        """Ids for ``faces`` of the frame shown at ``time_s``, in the same order."""
        signatures = [(_geometry(f), _colour(image, f.box)) for f in faces]
        pairs = []
        for i, face in enumerate(faces):
            for t, track in enumerate(self._tracks):
                recent = time_s - track.time_s <= _MAX_GAP_S
                overlap = _iou(face.box, track.box) if recent else 0.0
                distance = _distance(signatures[i], (track.geometry, track.colour))
                if overlap >= _MIN_IOU:
                    pairs.append((-overlap, i, t))  # any overlap sorts before every signature
                elif distance <= _MAX_DISTANCE:
                    pairs.append((distance, i, t))
        ids: list[str | None] = [None] * len(faces)
        taken: set[int] = set()
        for _, i, t in sorted(pairs):
            if ids[i] is None and t not in taken:
                ids[i] = self._tracks[t].id
                taken.add(t)
                self._update(self._tracks[t], faces[i], time_s, signatures[i])
        for i, face in enumerate(faces):
            if ids[i] is None:
                track = _Track(f"face_{len(self._tracks)}", face.box, time_s, *signatures[i])
                self._tracks.append(track)
                ids[i] = track.id
        return [face_id for face_id in ids if face_id is not None]

    @staticmethod
    def _update(
        track: _Track,
        face: FaceReading,
        time_s: float,
        signature: tuple[np.ndarray, np.ndarray],
    ) -> None:
        """Move the track and average its signature, so one odd frame cannot redefine it."""
        weight = 1.0 / min(track.seen + 1, 10)
        track.geometry = (1 - weight) * track.geometry + weight * signature[0]
        track.colour = (1 - weight) * track.colour + weight * signature[1]
        track.box, track.time_s = face.box, time_s
        track.seen += 1


def _geometry(face: FaceReading) -> np.ndarray:
    """Pairwise 3-D distances of the rigid points over their mean: pose- and size-free."""
    points = face.mesh.landmarks[list(_RIGID)]
    deltas = points[:, None, :] - points[None, :, :]
    distances = np.linalg.norm(deltas, axis=-1)[np.triu_indices(len(_RIGID), k=1)]
    normalised: np.ndarray = distances / max(float(distances.mean()), 1e-6)
    return normalised


def _colour(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Chromaticity histogram of the face box widened up to the hair line."""
    x, y, w, h = box
    height, width = image.shape[:2]
    top, bottom = max(int(y - 0.3 * h), 0), min(int(y + h), height)
    left, right = max(int(x), 0), min(int(x + w), width)
    region = image[top:bottom:2, left:right:2].reshape(-1, 3).astype(np.float32)
    if len(region) == 0:
        return np.full(64, 1 / 64)
    bins = np.minimum((region / 64).astype(np.int64), 3)
    counts = np.bincount(bins[:, 0] * 16 + bins[:, 1] * 4 + bins[:, 2], minlength=64)
    histogram: np.ndarray = counts / counts.sum()
    return histogram


def _distance(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> float:
    geometry = float(np.sqrt(np.mean((a[0] - b[0]) ** 2))) / _GEOMETRY_SCALE
    colour = 0.5 * float(np.abs(a[1] - b[1]).sum()) / _COLOUR_SCALE
    return (geometry + colour) / 2


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(right - left, 0.0) * max(bottom - top, 0.0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0
