"""Stable face ids across the frames of a video or a streaming session.

A face keeps its id from frame to frame while its box overlaps where it was (tracking). A face
that left and comes back, or that no box overlap explains, is matched on its identity: the
128-d face descriptor of face-api's FaceRecognitionNet (:mod:`identity`), compared with the
running mean of each known face's descriptors. Ids are ``face_0``, ``face_1``… in order of first
appearance, as in v0's output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mien.models.face.analyzer import FaceReading
from mien.models.face.identity import FaceEmbedder

__all__ = ["FaceTracker"]

_MIN_IOU = 0.3
_MAX_GAP_S = 1.0
"""A box overlap only counts as the same face if it was seen this recently."""
_MAX_DISTANCE = 0.5
"""Descriptor distance to a face's running mean beyond which a face is someone new. dlib's
threshold between two single descriptors is 0.6; a mean sits closer to everyone (on the test
media one person came at most 0.44 from her own mean, another person 0.51 from it)."""


@dataclass
class _Track:
    id: str
    box: tuple[float, float, float, float]
    time_s: float
    descriptor: np.ndarray
    seen: int = field(default=1)


class FaceTracker:
    """Assigns ids to the faces of successive frames; one tracker per video or socket."""

    def __init__(self, embedder: FaceEmbedder) -> None:
        """Start with no known faces."""
        self._embedder = embedder
        self._tracks: list[_Track] = []

    def assign(self, image: np.ndarray, time_s: float, faces: list[FaceReading]) -> list[str]:
        """Ids for ``faces`` of the frame shown at ``time_s``, in the same order."""
        if not faces:
            return []
        descriptors = self._embedder.embed(image, [f.mesh.landmarks for f in faces])
        pairs = []
        for i, face in enumerate(faces):
            for t, track in enumerate(self._tracks):
                recent = time_s - track.time_s <= _MAX_GAP_S
                overlap = _iou(face.box, track.box) if recent else 0.0
                distance = float(np.linalg.norm(descriptors[i] - track.descriptor))
                if overlap >= _MIN_IOU:
                    pairs.append((-overlap, i, t))  # any overlap sorts before every descriptor
                elif distance <= _MAX_DISTANCE:
                    pairs.append((distance, i, t))
        ids: list[str | None] = [None] * len(faces)
        taken: set[int] = set()
        for _, i, t in sorted(pairs):
            if ids[i] is None and t not in taken:
                ids[i] = self._tracks[t].id
                taken.add(t)
                self._update(self._tracks[t], faces[i], time_s, descriptors[i])
        for i, face in enumerate(faces):
            if ids[i] is None:
                track = _Track(f"face_{len(self._tracks)}", face.box, time_s, descriptors[i])
                self._tracks.append(track)
                ids[i] = track.id
        return [face_id for face_id in ids if face_id is not None]

    @staticmethod
    def _update(track: _Track, face: FaceReading, time_s: float, descriptor: np.ndarray) -> None:
        """Move the track and average its descriptor, so one odd frame cannot redefine it."""
        weight = 1.0 / min(track.seen + 1, 10)
        track.descriptor = (1 - weight) * track.descriptor + weight * descriptor
        track.box, track.time_s = face.box, time_s
        track.seen += 1


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(right - left, 0.0) * max(bottom - top, 0.0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0
