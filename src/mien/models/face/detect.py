"""Find faces with MediaPipe's BlazeFace full-range detector (Apache-2.0, 1 MB, 192x192 input).

The detector sees each image through a few square *views* that all go through one batched model
call: the whole image letterboxed (MediaPipe's own preprocessing), a zoomed-out copy of it for
faces that fill the frame (the full-range model is trained on faces at a distance and misses
close-ups), a mirrored copy (the model is not symmetric, and the better score of the two steadies
turned and tilted faces), and on large images a grid of overlapping tiles, so that faces smaller
than about a tenth of the image still cover enough of the 192 px input.
Detections from every view are mapped back to source pixels and merged with MediaPipe's weighted
non-maximum suppression.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from mien.models.tflite import TFLiteModel
from mien.settings import Settings
from mien.weights import fetch

__all__ = ["Detection", "FaceDetector"]

_SIZE = 192
"""Input side of the full-range model, in pixels."""
_GRID = 48
"""Anchor grid side: MediaPipe's full-range options have one layer of stride 4, one fixed-size
anchor per cell (2304 anchors), offset 0.5."""
_ANCHORS = (
    np.stack(np.meshgrid(np.arange(_GRID), np.arange(_GRID)), axis=-1).reshape(-1, 2) + 0.5
) / _GRID
"""Anchor centres (x, y) in [0, 1], row-major like the model's output."""
_SCORE_CLIP = 100.0
"""Logits are clipped to +-100 before the sigmoid, as in MediaPipe's decoder."""
_NMS_IOU = 0.3
"""MediaPipe's ``min_suppression_threshold`` for the face detection graph."""
_MIRROR = np.array([1, 0, 2, 3, 5, 4])
"""Keypoint order after a horizontal flip: the subject's right and left swap."""
_ZOOM_OUT = 1.6
"""Side of the zoomed-out view relative to the image's long side."""
_TILE_MIN_SIDE = 1200
"""Images whose long side reaches this many pixels are also tiled."""
_TILE_OVERLAP = 0.3
"""Overlap between neighbouring tiles, as a fraction of the tile side."""
_TILE_GRID = 3
"""Tiles across the long side of a large image."""
_REDUCING_GAP = 3.0
"""Pillow first shrinks by a whole factor with a box filter when the scale allows, which is much
faster on big images than a bilinear resize all the way and just as good for the detector."""
_EDGE_MARGIN = 0.02
"""A tile detection this close (fraction of the tile) to a cut edge may be a partial face."""


@dataclass(frozen=True)
class Detection:
    """One face found in an image, in source image pixels."""

    box: tuple[float, float, float, float]
    """x, y, width, height of the face box; origin top-left, clipped to the image."""
    prob: float
    """The detector's sigmoid score in [0, 1]."""
    keypoints: np.ndarray
    """(6, 2) float32 x, y: right eye, left eye, nose tip, mouth centre, right ear tragion, left
    ear tragion; "right" is the subject's right, i.e. the image's left on a frontal face."""


@dataclass(frozen=True)
class _View:
    """A square region of the source image, scaled to the model input and maybe mirrored."""

    x0: float
    y0: float
    side: float
    mirrored: bool = False
    cuts: tuple[bool, bool, bool, bool] = (False, False, False, False)
    """Which sides (left, top, right, bottom) of a tile cut through the image."""


class FaceDetector:
    """BlazeFace full-range with multi-view inference for small, large and turned faces."""

    def __init__(self, settings: Settings) -> None:
        """Load the pinned detector weights (fetched into the cache on first use)."""
        path = fetch("face-detector-full-range", settings)
        self._model = TFLiteModel(path, threads=settings.model_threads)

    def detect(self, image: np.ndarray, min_prob: float = 0.5) -> list[Detection]:
        """Faces in one RGB ``uint8`` (H, W, 3) image, most probable first."""
        return self.detect_batch([image], min_prob)[0]

    def detect_batch(
        self, images: Sequence[np.ndarray], min_prob: float = 0.5
    ) -> list[list[Detection]]:
        """Faces in each image, most probable first; all views of all images run as one batch."""
        if not images:
            return []
        views = [_views(image.shape[1], image.shape[0]) for image in images]
        pixels = np.concatenate(
            [_inputs(image, vs) for image, vs in zip(images, views, strict=True)]
        )
        batch = pixels.astype(np.float32) / 127.5 - 1  # MediaPipe's [-1, 1] input range
        boxes, logits = self._model(batch)  # the graph concatenates the batch on the anchor axis
        boxes = boxes.reshape(len(batch), -1, 16)
        logits = np.clip(logits.reshape(len(batch), -1), -_SCORE_CLIP, _SCORE_CLIP)
        scores = 1 / (1 + np.exp(-logits))
        results: list[list[Detection]] = []
        start = 0
        for image, vs in zip(images, views, strict=True):
            found = [
                _decode(boxes[start + i], scores[start + i], view, min_prob)
                for i, view in enumerate(vs)
            ]
            start += len(vs)
            results.append(_merge(np.concatenate(found), image.shape[1], image.shape[0]))
        return results


def _views(width: int, height: int) -> list[_View]:
    """The whole image (letterboxed, zoomed out, mirrored) plus tiles when the image is large."""
    long_side = max(width, height)
    cx, cy = width / 2, height / 2
    whole = _View(cx - long_side / 2, cy - long_side / 2, long_side)
    zoomed = long_side * _ZOOM_OUT
    views = [
        whole,
        _View(whole.x0, whole.y0, long_side, mirrored=True),
        _View(cx - zoomed / 2, cy - zoomed / 2, zoomed),
    ]
    if long_side >= _TILE_MIN_SIDE:
        cols, rows = _tile_count(width, long_side), _tile_count(height, long_side)
        side = max(width / _tile_span(cols), height / _tile_span(rows))
        views += [
            _View(x0, y0, side, cuts=(x0 > 0, y0 > 0, x0 + side < width, y0 + side < height))
            for y0 in _tile_starts(height, side, rows)
            for x0 in _tile_starts(width, side, cols)
        ]
    return views


def _tile_count(length: int, long_side: int) -> int:
    """Tiles along one axis: ``_TILE_GRID`` on the long side, proportionally fewer on the other."""
    return max(1, round(_TILE_GRID * length / long_side))


def _tile_span(count: int) -> float:
    """Length covered by ``count`` overlapping tiles, in tile sides."""
    return count - (count - 1) * _TILE_OVERLAP


def _tile_starts(length: int, side: float, count: int) -> list[float]:
    """Evenly spaced tile origins along one axis; a single tile is centred."""
    if count == 1:
        return [(length - side) / 2]
    return [i * (length - side) / (count - 1) for i in range(count)]


def _inputs(image: np.ndarray, views: list[_View]) -> np.ndarray:
    """(views, 192, 192, 3) ``uint8`` pixels; a mirrored view flips its twin's pixels."""
    picture = Image.fromarray(image)
    rendered: dict[tuple[float, float, float], np.ndarray] = {}
    inputs = []
    for view in views:
        key = (view.x0, view.y0, view.side)
        if key not in rendered:
            rendered[key] = _render(picture, view)
        inputs.append(rendered[key][:, ::-1] if view.mirrored else rendered[key])
    return np.stack(inputs)


def _render(picture: Image.Image, view: _View) -> np.ndarray:
    """The view's square region scaled to 192 px, unmirrored; outside the image is black."""
    width, height = picture.size
    scale = _SIZE / view.side
    left, top = max(view.x0, 0.0), max(view.y0, 0.0)
    right, bottom = min(view.x0 + view.side, width), min(view.y0 + view.side, height)
    canvas = np.zeros((_SIZE, _SIZE, 3), np.uint8)
    tx0, ty0 = round((left - view.x0) * scale), round((top - view.y0) * scale)
    tx1, ty1 = round((right - view.x0) * scale), round((bottom - view.y0) * scale)
    if tx1 > tx0 and ty1 > ty0:
        crop = picture.resize(
            (tx1 - tx0, ty1 - ty0),
            Image.Resampling.BILINEAR,
            box=(left, top, right, bottom),
            reducing_gap=_REDUCING_GAP,
        )
        canvas[ty0:ty1, tx0:tx1] = np.asarray(crop)
    return canvas


def _decode(raw: np.ndarray, scores: np.ndarray, view: _View, min_prob: float) -> np.ndarray:
    """Rows ``[score, x0, y0, x1, y1, 12 keypoint coords]`` in source pixels above ``min_prob``."""
    keep = scores >= min_prob
    raw, scores, anchors = raw[keep], scores[keep], _ANCHORS[keep]
    centre = anchors + raw[:, 0:2] / _SIZE
    half = raw[:, 2:4] / _SIZE / 2
    points = anchors[:, None] + raw[:, 4:16].reshape(-1, 6, 2) / _SIZE
    corners = np.concatenate([centre - half, centre + half], axis=1)
    if any(view.cuts):  # a face cut by the tile's edge is seen whole by a neighbour
        near = np.concatenate([corners[:, :2] < _EDGE_MARGIN, corners[:, 2:] > 1 - _EDGE_MARGIN], 1)
        whole = ~np.any(near & np.array(view.cuts), axis=1)
        scores, corners, points = scores[whole], corners[whole], points[whole]
    if view.mirrored:
        corners = np.stack([1 - corners[:, 2], corners[:, 1], 1 - corners[:, 0], corners[:, 3]], 1)
        points = points[:, _MIRROR] * [-1, 1] + [1, 0]
    origin = np.array([view.x0, view.y0])
    corners = corners * view.side + np.tile(origin, 2)
    points = points * view.side + origin
    return np.concatenate([scores[:, None], corners, points.reshape(-1, 12)], axis=1)


def _merge(rows: np.ndarray, width: int, height: int) -> list[Detection]:
    """MediaPipe's weighted NMS: each cluster of overlapping rows is averaged by score."""
    rows = rows[np.argsort(-rows[:, 0], kind="stable")]
    detections: list[Detection] = []
    while len(rows):
        overlap = np.asarray(_iou(rows[0, 1:5], rows[:, 1:5]) > _NMS_IOU)
        cluster = rows[overlap]
        weights = cluster[:, :1] / cluster[:, 0].sum()
        merged = (cluster[:, 1:] * weights).sum(axis=0)
        x0, y0 = max(merged[0], 0.0), max(merged[1], 0.0)
        x1, y1 = min(merged[2], width), min(merged[3], height)
        if x1 > x0 and y1 > y0:
            detections.append(
                Detection(
                    box=(float(x0), float(y0), float(x1 - x0), float(y1 - y0)),
                    prob=float(rows[0, 0]),
                    keypoints=merged[4:].reshape(6, 2).astype(np.float32),
                )
            )
        rows = rows[~overlap]
    return detections


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one (x0, y0, x1, y1) box with each of ``boxes``."""
    low = np.maximum(box[:2], boxes[:, :2])
    high = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(high - low, 0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return np.asarray(inter / (area + areas - inter + 1e-9))
