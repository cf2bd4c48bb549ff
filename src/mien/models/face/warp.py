"""Cut a rotated square out of an image for a model's input: the face mesh's and the hand's."""

from __future__ import annotations

import numpy as np
from PIL import Image

__all__ = ["warp_square"]


def warp_square(image: np.ndarray, affine: np.ndarray, size: int) -> np.ndarray:
    """The ``size`` x ``size`` crop that ``affine`` (crop px -> image px) maps from ``image``.

    Outside the image is black. Only the pixels under the crop (plus a bilinear margin) go to
    Pillow: converting a whole large photo per call cost more than the warp itself.
    """
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]])
    reach = corners @ affine.T
    height, width = image.shape[:2]
    x0, y0 = np.clip(np.floor(reach.min(axis=0)) - 2, 0, [width, height]).astype(int)
    x1, y1 = np.clip(np.ceil(reach.max(axis=0)) + 2, 0, [width, height]).astype(int)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((size, size, 3), np.uint8)
    local = affine.copy()
    local[:, 2] -= (x0, y0)
    region = Image.fromarray(np.ascontiguousarray(image[y0:y1, x0:x1]))
    return np.asarray(
        region.transform(
            (size, size),
            Image.Transform.AFFINE,
            tuple(local.ravel().tolist()),
            resample=Image.Resampling.BILINEAR,
        )
    )
