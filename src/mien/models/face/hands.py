"""Hands near faces: MediaPipe's palm detector and hand landmarker, and v0's five hand FACS items.

v0 lists "Hand over Mouth / Eyes / Forehead / Face" and "Hand touching Face / Head" among its
FACS 2.0 items, and "Face in hands" among its descriptions. The face mesh cannot see hands, so
hands are found as MediaPipe Hands finds them (npm ``@mediapipe/hands``, Apache-2.0): BlazePalm
full on the letterboxed image (192 x 192, [0, 1] input, 2,016 SSD anchors, weighted NMS), then the
full hand landmark model (224 x 224, 21 points) on each palm's rotated square crop, all palms of
all images in one batched call. The pre- and post-processing follow MediaPipe's graphs
(``palm_detection_cpu``, ``palm_detection_detection_to_roi``, ``hand_landmark_cpu``).

The items are geometry between the 21 hand points and the 478-point face mesh (see
:func:`hand_items` for the formulas). A hand is drawn as its silhouette: a capsule around each
bone plus the palm polygon, so that a hand over the mouth covers it even when no joint lies on
the lips. Each face region is sampled on a regular grid and its *coverage* is the share of the
samples under any hand.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from mien.errors import ChecksumError
from mien.models.face.warp import warp_square
from mien.models.tflite import TFLiteModel
from mien.settings import Settings
from mien.weights import fetch

__all__ = ["HAND_ITEMS", "Hand", "HandFinder", "face_in_hands", "hand_items"]

HAND_ITEMS: tuple[str, ...] = (
    "Hand over Mouth",
    "Hand over Eyes",
    "Hand over Forehead",
    "Hand over Face",
    "Hand touching Face / Head",
)
"""v0's hand FACS items, in the order of :func:`hand_items`' columns."""

_PALM_SLICE = (11, 2_341_291)
"""Bytes of ``palm_detection_full.tflite`` in the pinned ``hands_solution_packed_assets.data``
(from the package's own ``hands_solution_packed_assets_loader.js``)."""
_PALM_SHA256 = "2f25e740121983f68ffc05f99991d524dc0ea812134f6316a26125816941ee85"
_PALM_PX = 192
_HAND_PX = 224
_MIN_PALM = 0.2
"""Palm candidates this likely go to the landmark model, whose presence score then decides.
MediaPipe's own threshold is 0.5, but in video it tracks hands from frame to frame; on single
photos 0.5 found 23 % of real hands pasted over a face and 0.2 found 37 %, with no false hand on
the test photos (docs/models/face.md)."""
_MAX_PALMS = 8
"""At most this many candidates per image (most likely first): each costs a landmark run."""
_NMS_IOU = 0.3
_MIN_PRESENCE = 0.5
"""The landmark model's hand-presence threshold in MediaPipe's graph."""
_SAME_HAND = 0.5
"""Two landmark sets are one hand seen through two palms when this much of the smaller one's box
lies in the other's."""
_ROI_SCALE = 2.6
_ROI_SHIFT_Y = -0.5


def _palm_anchors() -> np.ndarray:
    """(2016, 2) anchor centres in [0, 1]: MediaPipe's SSD options for BlazePalm.

    Strides 8, 16, 16, 16 with two anchors per layer (``fixed_anchor_size``): 24 x 24 cells with
    2 anchors, then 12 x 12 cells with 6, row-major like the model's output.
    """
    layers = []
    for grid, per_cell in ((24, 2), (12, 6)):
        ys, xs = np.meshgrid(np.arange(grid), np.arange(grid), indexing="ij")
        centres = (np.stack([xs, ys], axis=-1).reshape(-1, 2) + 0.5) / grid
        layers.append(np.repeat(centres, per_cell, axis=0))
    return np.concatenate(layers)


_ANCHORS = _palm_anchors()

_BONES = np.array([
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11),
    (11, 12), (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19),
    (19, 20),
])  # fmt: skip
"""MediaPipe's hand connections between the 21 landmarks."""
_PALM = np.array([0, 1, 2, 5, 9, 13, 17])
_FINGER_RADIUS = 0.13
"""Half a finger's width relative to the palm length (wrist to middle knuckle): ~1.2 of 9 cm."""

_OVAL = np.array([
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
    148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
])  # fmt: skip
_LIPS = np.array([
    61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185,
])  # fmt: skip
_RIGHT_EYE = np.array([33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246])
_LEFT_EYE = np.array([
    263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466,
])  # fmt: skip
_FOREHEAD = np.array([
    162, 70, 63, 105, 66, 107, 9, 336, 296, 334, 293, 300, 389, 251, 284, 332, 297, 338, 10, 109,
    67, 103, 54, 21,
])  # fmt: skip
"""Above the brows: the upper face oval closed by the top line of both brows."""
_MOUTH_REGION = (1.6, 0.45)
"""The mouth region is the outer lip contour grown 1.6 times about its centre (a hand over the
mouth covers the lips and the skin around them), and at least 0.45 face heights wide, so that
a fingertip at the lips of a face in profile does not cover it."""
_EYE_REGION = (1.8, 0.25)
"""Eye regions: the eye contours grown to take in the lids and socket, at least 0.25 wide."""
_HEAD_DOME = 0.45
"""The head above the face oval reaches this share of the face height over the forehead."""
_GRID = 14
"""Samples per side of each region's bounding box for coverage."""

_COVER_RAMPS = (
    (0.15, 0.55),  # mouth
    (0.15, 0.55),  # eyes (mean of both)
    (0.2, 0.6),  # forehead
    (0.3, 0.65),  # whole face
)
"""Coverage at which each "Hand over" score starts to rise and where it reaches 1."""
_TOUCH_REACH = 0.12
"""A hand this far (share of the face height) from the head still counts as touching it."""


@dataclass(frozen=True)
class Hand:
    """One hand found in an image."""

    landmarks: np.ndarray
    """(21, 3) float32 x, y in source pixels and relative depth z on the same scale; MediaPipe's
    order (0 wrist, 4 thumb tip, 8 index tip, 12 middle tip, 16 ring tip, 20 little tip)."""
    presence: float
    """The landmark model's hand-presence probability."""
    handedness: float
    """The model's handedness score: MediaPipe's probability of "Left" on a mirrored (selfie)
    image, so on an ordinary photo the probability that this is the subject's right hand."""


class HandFinder:
    """Palm detection and hand landmarks, batched over palms (and images)."""

    def __init__(self, settings: Settings) -> None:
        """Load the two models; the palm model is cut from the pinned asset package."""
        assets = fetch("hand-solution-assets", settings).read_bytes()
        palm = assets[slice(*_PALM_SLICE)]
        if hashlib.sha256(palm).hexdigest() != _PALM_SHA256:
            raise ChecksumError("palm_detection_full.tflite is not where the loader said")
        self._palm = TFLiteModel(palm, threads=settings.model_threads)
        landmark = fetch("hand-landmarker-full", settings)
        self._landmark = TFLiteModel(landmark, threads=settings.model_threads)

    def find(self, image: np.ndarray) -> list[Hand]:
        """Hands in one RGB ``uint8`` (H, W, 3) image, most present first."""
        return self.find_batch([image])[0]

    def find_batch(self, images: Sequence[np.ndarray]) -> list[list[Hand]]:
        """Hands in each image, most present first; one model call per stage for all images."""
        if not images:
            return []
        letterboxed = [_letterbox(image) for image in images]
        pixels = np.stack([pixels for pixels, _ in letterboxed]).astype(np.float32) / 255.0
        raw_boxes, raw_scores = self._palm(pixels)  # the graph stacks the batch on the anchors
        raw_boxes = raw_boxes.reshape(len(images), -1, 18)
        raw_scores = raw_scores.reshape(len(images), -1)
        rois: list[tuple[int, np.ndarray]] = []
        for i, (_, view) in enumerate(letterboxed):
            palms = _decode_palms(raw_boxes[i], raw_scores[i], view)
            rois += [(i, _hand_roi(palm)) for palm in palms]
        found: list[list[Hand]] = [[] for _ in images]
        if not rois:
            return found
        crops = np.stack([warp_square(images[i], affine, _HAND_PX) for i, affine in rois]).astype(
            np.float32
        )
        points, flags, handedness, _ = self._landmark(crops / 255.0)
        points = points.reshape(len(rois), 21, 3).astype(np.float64)
        for (i, affine), pts, flag, hand in zip(rois, points, flags, handedness, strict=True):
            presence = float(np.ravel(flag)[0])
            if presence < _MIN_PRESENCE:
                continue
            landmarks = np.empty_like(pts)
            landmarks[:, :2] = pts[:, :2] @ affine[:, :2].T + affine[:, 2]
            landmarks[:, 2] = pts[:, 2] * math.hypot(*affine[:, 0])
            found[i].append(Hand(landmarks.astype(np.float32), presence, float(np.ravel(hand)[0])))
        return [_dedupe(hands) for hands in found]


def _letterbox(image: np.ndarray) -> tuple[np.ndarray, tuple[float, float, float]]:
    """The image letterboxed to 192 x 192 on black, as MediaPipe's ``keep_aspect_ratio``.

    Also returns the (x0, y0, side) in source pixels that the model's [0, 1] coordinates span.
    """
    height, width = image.shape[:2]
    scale = _PALM_PX / max(width, height)
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    canvas = np.zeros((_PALM_PX, _PALM_PX, 3), np.uint8)
    left, top = (_PALM_PX - w) // 2, (_PALM_PX - h) // 2
    resized = Image.fromarray(image).resize((w, h), Image.Resampling.BILINEAR, reducing_gap=3.0)
    canvas[top : top + h, left : left + w] = np.asarray(resized)
    return canvas, (-left / scale, -top / scale, _PALM_PX / scale)


def _decode_palms(
    raw: np.ndarray, logits: np.ndarray, view: tuple[float, float, float]
) -> list[np.ndarray]:
    """Palms as rows ``[x0, y0, x1, y1, 7 keypoints (x, y)]`` in source pixels, after NMS."""
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -100.0, 100.0)))
    keep = scores >= _MIN_PALM
    raw, scores, anchors = raw[keep], scores[keep], _ANCHORS[keep]
    centre = anchors + raw[:, 0:2] / _PALM_PX
    half = raw[:, 2:4] / _PALM_PX / 2
    keypoints = anchors[:, None] + raw[:, 4:18].reshape(-1, 7, 2) / _PALM_PX
    rows = np.concatenate([centre - half, centre + half, keypoints.reshape(-1, 14)], axis=1)
    x0, y0, side = view
    rows = rows * side + np.tile([x0, y0], 9)
    return _weighted_nms(rows, scores)[:_MAX_PALMS]


def _weighted_nms(rows: np.ndarray, scores: np.ndarray) -> list[np.ndarray]:
    """MediaPipe's weighted NMS: each cluster of overlapping palms is averaged by score."""
    order = np.argsort(-scores, kind="stable")
    rows, scores = rows[order], scores[order]
    merged = []
    while len(rows):
        overlap = _iou(rows[0, :4], rows[:, :4]) > _NMS_IOU
        weights = scores[overlap] / scores[overlap].sum()
        merged.append((rows[overlap] * weights[:, None]).sum(axis=0))
        rows, scores = rows[~overlap], scores[~overlap]
    return merged


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one (x0, y0, x1, y1) box with each of ``boxes``."""
    low = np.maximum(box[:2], boxes[:, :2])
    high = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(high - low, 0, None), axis=1)
    union = np.prod(box[2:] - box[:2]) + np.prod(boxes[:, 2:] - boxes[:, :2], axis=1) - inter
    return np.asarray(inter / np.maximum(union, 1e-9))


def _hand_roi(palm: np.ndarray) -> np.ndarray:
    """(2, 3) map from 224 px crop coordinates to source pixels for MediaPipe's palm -> hand crop.

    The crop turns the wrist -> middle-knuckle line (keypoints 0 -> 2) upright, is shifted half
    the palm box towards the fingers, made square on the long side and scaled 2.6 times.
    """
    x0, y0, x1, y1 = palm[:4]
    wrist, knuckle = palm[4:6], palm[8:10]
    angle = math.pi / 2 - math.atan2(-(knuckle[1] - wrist[1]), knuckle[0] - wrist[0])
    angle = (angle + math.pi) % (2 * math.pi) - math.pi
    width, height = x1 - x0, y1 - y0
    cx = (x0 + x1) / 2 - height * _ROI_SHIFT_Y * math.sin(angle)
    cy = (y0 + y1) / 2 + height * _ROI_SHIFT_Y * math.cos(angle)
    scale = max(width, height) * _ROI_SCALE / _HAND_PX
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    half = _HAND_PX / 2
    return np.array([
        [cos, -sin, cx - half * (cos - sin)],
        [sin, cos, cy - half * (sin + cos)],
    ])  # fmt: skip


def _dedupe(hands: list[Hand]) -> list[Hand]:
    """Most present first, dropping a hand whose landmark box lies mostly in a kept one's."""
    hands = sorted(hands, key=lambda hand: -hand.presence)
    kept: list[Hand] = []
    for hand in hands:
        box = _box(hand.landmarks)
        if all(_overlap(box, _box(k.landmarks)) <= _SAME_HAND for k in kept):
            kept.append(hand)
    return kept


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the smaller of two (x0, y0, x1, y1) boxes that lies in the other."""
    inter = np.prod(np.clip(np.minimum(a[2:], b[2:]) - np.maximum(a[:2], b[:2]), 0, None))
    smaller = min(np.prod(a[2:] - a[:2]), np.prod(b[2:] - b[:2]))
    return float(inter / max(smaller, 1e-9))


def _box(landmarks: np.ndarray) -> np.ndarray:
    points = np.asarray(landmarks, np.float64)[:, :2]
    return np.concatenate([points.min(axis=0), points.max(axis=0)])


def hand_items(hands: Sequence[Hand], face_landmarks: np.ndarray) -> np.ndarray:
    """v0's hand FACS items for each face: (n_faces, 5) in [0, 1], in ``HAND_ITEMS`` order.

    ``face_landmarks`` is (n_faces, 478, 3) FaceMesh landmarks in the hands' source pixels.
    With ``cover`` the share of a region under any hand and ``ramp(c, a, b)`` the smoothstep from
    0 at ``a`` to 1 at ``b``:

    - Hand over Mouth = ramp(cover(lips grown 1.6x, >= 0.45 face heights wide), 0.15, 0.55)
    - Hand over Eyes = ramp(mean of cover(each eye grown 1.8x, >= 0.25 wide), 0.15, 0.55)
    - Hand over Forehead = ramp(cover(oval above the brows), 0.2, 0.6)
    - Hand over Face = ramp(cover(face outline: hull of the mesh), 0.3, 0.65)
    - Hand touching Face / Head = near x (1 - max of the four above), where ``near`` falls
      linearly from 1 when a hand point touches the head (mesh outline plus a dome above it) to 0 at
      12 % of the face height away: touching, not covering.
    """
    faces = np.asarray(face_landmarks, np.float64).reshape(-1, 478, 3)[:, :, :2]
    scores = np.zeros((len(faces), len(HAND_ITEMS)))
    if not hands:
        return scores
    for i, face in enumerate(faces):
        height = float(np.linalg.norm(face[10] - face[152]))
        near = _within_reach(hands, face, height)
        if not near:
            continue
        outline = _outline(face)
        covers = np.array([
            _coverage(near, _grown(face[_LIPS], _MOUTH_REGION, height)),
            (
                _coverage(near, _grown(face[_RIGHT_EYE], _EYE_REGION, height))
                + _coverage(near, _grown(face[_LEFT_EYE], _EYE_REGION, height))
            ) / 2,
            _coverage(near, face[_FOREHEAD]),
            _coverage(near, outline),
        ])  # fmt: skip
        over = np.array([_ramp(c, *ramp) for c, ramp in zip(covers, _COVER_RAMPS, strict=True)])
        head = _head(face, outline)
        touch = max(_nearness(hand, head, height) for hand in near)
        scores[i] = [*over, touch * (1.0 - over.max())]
    return scores


def face_in_hands(hands: Sequence[Hand], face_landmarks: np.ndarray) -> np.ndarray:
    """v0's "Face in hands" description for each face: (n_faces,) in [0, 1].

    Two hands at the face (each touching the head or covering part of the face) that together
    cover much of it: min(nearness of the two nearest hands) x ramp(cover(face outline), 0.15,
    0.5).
    """
    faces = np.asarray(face_landmarks, np.float64).reshape(-1, 478, 3)[:, :, :2]
    scores = np.zeros(len(faces))
    if len(hands) < 2:
        return scores
    for i, face in enumerate(faces):
        height = float(np.linalg.norm(face[10] - face[152]))
        near = _within_reach(hands, face, height)
        if len(near) < 2:
            continue
        outline = _outline(face)
        head = _head(face, outline)
        nearness = sorted((_nearness(hand, head, height) for hand in near), reverse=True)
        scores[i] = nearness[1] * _ramp(_coverage(near, outline), 0.15, 0.5)
    return scores


def _ramp(value: float, low: float, high: float) -> float:
    """Smoothstep from 0 at ``low`` to 1 at ``high``."""
    t = min(max((value - low) / (high - low), 0.0), 1.0)
    return t * t * (3.0 - 2.0 * t)


def _grown(polygon: np.ndarray, region: tuple[float, float], face_height: float) -> np.ndarray:
    """The polygon grown about its centre by ``region``'s factor, and to at least its width."""
    factor, min_width = region
    centre = polygon.mean(axis=0)
    width = float(np.ptp(polygon, axis=0).max())
    factor = max(factor, min_width * face_height / max(width, 1e-9))
    return np.asarray(centre + (polygon - centre) * factor)


def _coverage(hands: Sequence[Hand], polygon: np.ndarray) -> float:
    """Share of a grid of samples inside ``polygon`` that lies under any hand's silhouette."""
    low, high = polygon.min(axis=0), polygon.max(axis=0)
    steps = (np.arange(_GRID) + 0.5) / _GRID
    grid = np.stack(np.meshgrid(steps, steps), axis=-1).reshape(-1, 2) * (high - low) + low
    samples = grid[_inside(grid, polygon)]
    if not len(samples):
        return 0.0
    covered = np.zeros(len(samples), bool)
    for hand in hands:
        covered |= _under_hand(samples, np.asarray(hand.landmarks, np.float64)[:, :2])
    return float(covered.mean())


def _under_hand(points: np.ndarray, hand: np.ndarray) -> np.ndarray:
    """Which points lie on the hand: in the palm polygon or within a finger's width of a bone."""
    radius = _FINGER_RADIUS * float(np.linalg.norm(hand[9] - hand[0]))
    return _inside(points, hand[_PALM]) | (_bone_distance(points, hand) <= radius)


def _bone_distance(points: np.ndarray, hand: np.ndarray) -> np.ndarray:
    """Distance from each point to the nearest bone of the hand."""
    return _segment_distance(points, hand[_BONES[:, 0]], hand[_BONES[:, 1]])


def _segment_distance(points: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Distance from each point to the nearest of the segments ``starts[k] -> ends[k]``."""
    span = ends - starts
    length2 = np.maximum((span**2).sum(axis=1), 1e-9)
    t = np.clip(((points[:, None] - starts) * span).sum(axis=2) / length2, 0.0, 1.0)
    nearest = starts + t[..., None] * span
    return np.asarray(np.linalg.norm(points[:, None] - nearest, axis=2).min(axis=1))


def _inside(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even-odd ray test of each point against a closed polygon."""
    x, y = points[:, 0:1], points[:, 1:2]
    x0, y0 = polygon[:, 0], polygon[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    crosses = (y0 > y) != (y1 > y)
    at = x0 + (y - y0) * (x1 - x0) / np.where(y1 == y0, 1e-12, y1 - y0)
    return np.asarray((crosses & (x < at)).sum(axis=1) % 2 == 1)


def _within_reach(hands: Sequence[Hand], face: np.ndarray, height: float) -> list[Hand]:
    """The hands whose box comes within touching reach of the face's box and head dome.

    The others can neither touch nor cover the face; skipping them keeps group photos cheap.
    """
    margin = (_HEAD_DOME + _TOUCH_REACH) * height
    low, high = face.min(axis=0) - margin, face.max(axis=0) + margin
    return [
        hand
        for hand in hands
        if np.all(_box(hand.landmarks)[:2] <= high) and np.all(_box(hand.landmarks)[2:] >= low)
    ]


def _outline(face: np.ndarray) -> np.ndarray:
    """The face's outline: the convex hull of the mesh, not the face oval.

    The lips and nose of a face in profile stand out of the oval but belong to the face. Only the
    oval and the points outside it can be on the hull.
    """
    oval = face[_OVAL]
    return _hull(np.concatenate([oval, face[~_inside(face, oval)]]))


def _head(face: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """The face outline with a dome over the forehead for the skull and hair."""
    oval = face[_OVAL]
    chin, top = face[152], face[10]
    height = float(np.linalg.norm(top - chin))
    up = (top - chin) / max(height, 1e-9)
    centre = (top + chin) / 2
    rise = np.clip(((oval - centre) @ up) / max(float((top - centre) @ up), 1e-9), 0.0, 1.0)
    dome = oval + np.outer(np.sqrt(rise), up) * _HEAD_DOME * height
    return _hull(np.concatenate([outline, dome]))


def _hull(points: np.ndarray) -> np.ndarray:
    """Convex hull of 2-D points (Andrew's monotone chain, on Python floats for speed)."""
    ordered = sorted(map(tuple, np.asarray(points, np.float64).tolist()))

    def chain(sequence: list[tuple[float, ...]]) -> list[tuple[float, ...]]:
        kept: list[tuple[float, ...]] = []
        for x, y in sequence:
            while len(kept) >= 2:
                (ax, ay), (bx, by) = kept[-2], kept[-1]
                if (bx - ax) * (y - ay) - (by - ay) * (x - ax) > 0:
                    break
                kept.pop()
            kept.append((x, y))
        return kept[:-1]

    return np.array(chain(ordered) + chain(ordered[::-1]))


def _nearness(hand: Hand, head: np.ndarray, face_height: float) -> float:
    """1 when a hand point touches the head, falling to 0 at ``_TOUCH_REACH`` face heights."""
    points = np.asarray(hand.landmarks, np.float64)[:, :2]
    if _inside(points, head).any():
        return 1.0
    gap = float(_segment_distance(points, head, np.roll(head, -1, axis=0)).min())
    return max(0.0, 1.0 - gap / max(_TOUCH_REACH * face_height, 1e-9))
