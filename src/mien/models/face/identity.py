"""Face identity descriptors: face-api's FaceRecognitionNet (dlib's ResNet-34 face net) in numpy.

The net maps a 150 x 150 face chip to 128 numbers whose Euclidean distance tells people apart:
dlib's rule is "same person below 0.6" (``SAME_PERSON``). face-api ships the weights (MIT) as a
uint8-quantised TF.js shard and the network only as JavaScript, so it is rebuilt here; it matches
face-api's own JS in Node within 1e-6. The chip is cut as face-api's dlib alignment cuts it, from
the eye and mouth centres, here read off the MediaPipe mesh instead of a 68-point one, and also
turned so the eyes are level, as dlib's own chips are (face-api skips that; on the test photos the
turn brings copies of one face closer and keeps different people farther apart).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image

from mien.models.face.tfjs import conv2d, load_shard, relu, taps
from mien.models.face.warp import warp_square
from mien.settings import Settings
from mien.weights import fetch

__all__ = ["DESCRIPTOR_SIZE", "SAME_PERSON", "FaceEmbedder", "FaceRecognitionNet"]

DESCRIPTOR_SIZE = 128
SAME_PERSON = 0.6
"""dlib's Euclidean distance below which two descriptors are one person."""
CHIP_PX = 150

# The 68-point model's eye (36-41, 42-47) and mouth (48-67) points, as MediaPipe mesh indices.
_LEFT_EYE = (33, 160, 158, 133, 153, 144)
_RIGHT_EYE = (362, 385, 387, 263, 373, 380)
_MOUTH = (61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181, 78, 82, 13, 312, 308, 317, 14, 87)
# face-api's dlib alignment: the chip's side is the eye-to-mouth distance over 0.45, and the
# centre of the three points sits half-way across and 43 % down.
_REL_X, _REL_Y, _REL_SCALE = 0.5, 0.43, 0.45
_MEAN_RGB = np.array([122.782, 117.001, 104.298], dtype=np.float32)
_STAGES = (
    ("conv32", 3, False),
    ("conv64", 3, True),
    ("conv128", 2, True),
    ("conv256", 2, True),
)
"""Residual stages: (name, plain residual layers, whether it starts with a down layer)."""


class FaceRecognitionNet:
    """face-api's FaceRecognitionNet in numpy, on (n, 150, 150, 3) RGB chips."""

    def __init__(self, params: dict[str, np.ndarray]) -> None:
        """Keep the shard's tensors, with each conv's bias and scale folded into one affine."""
        self._filters: dict[str, np.ndarray] = {}
        self._affine: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name in params:
            if name.endswith("/conv/filters"):
                layer = name.removesuffix("/conv/filters")
                scale = params[f"{layer}/scale/weights"]
                shift = params[f"{layer}/conv/bias"] * scale + params[f"{layer}/scale/biases"]
                self._filters[layer] = params[name]
                self._affine[layer] = (scale, shift)
        self._fc = params["fc"]

    def _conv(self, x: np.ndarray, layer: str, stride: int, activate: bool) -> np.ndarray:
        """conv, + bias, * scale + shift, as face-api's ``convLayer`` ('valid' when striding)."""
        scale, shift = self._affine[layer]
        out = conv2d(x, self._filters[layer], stride, "valid" if stride > 1 else "same")
        out = out * scale + shift
        return relu(out) if activate else out

    def _residual(self, x: np.ndarray, layer: str) -> np.ndarray:
        out = self._conv(x, f"{layer}/conv1", 1, activate=True)
        return relu(self._conv(out, f"{layer}/conv2", 1, activate=False) + x)

    def _residual_down(self, x: np.ndarray, layer: str) -> np.ndarray:
        """Stride-2 residual: the shortcut is a 2x2 average pool, zero-padded to fit."""
        out = self._conv(x, f"{layer}/conv1", 2, activate=True)
        out = self._conv(out, f"{layer}/conv2", 1, activate=False)
        pooled = sum(taps(x, 2, 2, "valid")) / np.float32(4)
        rows, cols = pooled.shape[1] - out.shape[1], pooled.shape[2] - out.shape[2]
        out = np.pad(out, ((0, 0), (0, rows), (0, cols), (0, 0)))  # face-api's zero row/column
        out[..., : pooled.shape[3]] += pooled  # the extra channels get a zero shortcut
        return relu(out)

    def __call__(self, chips: np.ndarray) -> np.ndarray:
        """Raw descriptors (n, 128) of RGB chips (n, 150, 150, 3), as ``computeFaceDescriptor``."""
        x = (chips.astype(np.float32) - _MEAN_RGB) / np.float32(255)
        x = self._conv(x, "conv32_down", 2, activate=True)
        x = np.max(taps(x, 3, 2, "valid"), axis=0)  # 3x3 stride-2 max pool
        for name, plain, down in _STAGES:
            if down:
                x = self._residual_down(x, f"{name}_down")
            for i in range(1, plain + 1):
                x = self._residual(x, f"{name}_{i}")
        x = self._residual_down(x, "conv256_down_out")
        out: np.ndarray = x.mean(axis=(1, 2)) @ self._fc
        return out


def _chip(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The 150 x 150 dlib-aligned chip of one face; outside the image is black."""
    points = landmarks[:, :2].astype(np.float64)
    left, right = points[list(_LEFT_EYE)].mean(axis=0), points[list(_RIGHT_EYE)].mean(axis=0)
    mouth = points[list(_MOUTH)].mean(axis=0)
    eye_to_mouth = (np.linalg.norm(mouth - left) + np.linalg.norm(mouth - right)) / 2
    side = max(float(eye_to_mouth) / _REL_SCALE, 1.0)
    angle = math.atan2(right[1] - left[1], right[0] - left[0])
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    centre = (left + right + mouth) / 3 + rotation @ np.array([0.5 - _REL_X, 0.5 - _REL_Y]) * side
    # A large face is warped at a whole multiple of the chip size and box-shrunk, so the
    # bilinear warp never skips source pixels (aliasing).
    factor = max(1, math.floor(side / CHIP_PX))
    linear = rotation * (side / CHIP_PX / factor)
    affine = np.column_stack([linear, centre - linear @ np.full(2, CHIP_PX * factor / 2)])
    chip = warp_square(image, affine, CHIP_PX * factor)
    return np.asarray(Image.fromarray(chip).reduce(factor)) if factor > 1 else chip


class FaceEmbedder:
    """Descriptors for the faces the face model found, from their meshes."""

    def __init__(self, settings: Settings) -> None:
        """Fetch (or find in the cache) the net's weights and load them."""
        self._net = FaceRecognitionNet(
            load_shard(
                fetch("face-recognition-weights", settings),
                fetch("face-recognition-manifest", settings),
            )
        )

    def chips(self, image: np.ndarray, landmarks: Sequence[np.ndarray]) -> np.ndarray:
        """The aligned RGB chips (n, 150, 150, 3) the net reads, for inspection and tests."""
        if not landmarks:
            return np.zeros((0, CHIP_PX, CHIP_PX, 3), np.uint8)
        return np.stack([_chip(image, lm) for lm in landmarks])

    def embed(self, image: np.ndarray, landmarks: Sequence[np.ndarray]) -> np.ndarray:
        """Descriptors (n, 128) of the faces with these (478, 3) pixel meshes; ``image`` is RGB.

        They are the net's own, not L2-normalised: their norms are 1.3-1.5, and dlib's "same
        person below 0.6" rule holds for them as they are, not for unit vectors (a fixed scale
        would only shrink every distance by about 1/1.45).
        """
        if not landmarks:
            return np.zeros((0, DESCRIPTOR_SIZE), np.float32)
        return self._net(self.chips(image, landmarks))
