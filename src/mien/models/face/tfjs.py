"""What the numpy ports of face-api's TF.js nets share: the weight shard and TF's convolutions.

face-api ships each net as a uint8-quantised TF.js shard plus a JSON manifest; its networks
exist only as JavaScript, so they are rebuilt in numpy on top of these two helpers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np

__all__ = ["conv2d", "load_shard", "relu", "taps"]

Padding = Literal["same", "valid"]


def load_shard(weights: Path, manifest: Path) -> dict[str, np.ndarray]:
    """Every tensor of the shard by name, dequantised as TF.js does (value = q * scale + min)."""
    data = weights.read_bytes()
    params: dict[str, np.ndarray] = {}
    offset = 0
    for group in json.loads(manifest.read_text()):
        for spec in group["weights"]:
            count = int(np.prod(spec["shape"]))
            quant = spec.get("quantization")
            if quant:
                q = np.frombuffer(data, np.uint8, count, offset)
                value = q * float(quant["scale"]) + float(quant["min"])
                offset += count
            else:
                value = np.frombuffer(data, np.float32, count, offset)
                offset += 4 * count
            params[spec["name"]] = value.astype(np.float32).reshape(spec["shape"])
    return params


def taps(x: np.ndarray, size: int, stride: int, padding: Padding) -> list[np.ndarray]:
    """The ``size**2`` shifted views of NHWC ``x`` a convolution reads, in kernel order.

    'same' zero-pads as TensorFlow does (the odd pixel goes at the end); 'valid' drops the
    rows and columns a stride leaves over.
    """
    spans = []
    pads = []
    for n in x.shape[1:3]:
        if padding == "same":
            out = -(-n // stride)
            total = max((out - 1) * stride + size - n, 0)
            pads.append((total // 2, total - total // 2))
        else:
            out = (n - size) // stride + 1
            pads.append((0, 0))
        spans.append((out - 1) * stride + 1)  # the span of output rows, in input rows
    padded = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0))) if padding == "same" else x
    rows, cols = spans
    return [
        padded[:, i : i + rows : stride, j : j + cols : stride]
        for i in range(size)
        for j in range(size)
    ]


def conv2d(x: np.ndarray, filters: np.ndarray, stride: int, padding: Padding) -> np.ndarray:
    """``tf.conv2d`` (HWIO filters) as one matmul over the stacked taps (im2col)."""
    patches = np.concatenate(taps(x, filters.shape[0], stride, padding), axis=-1)
    out: np.ndarray = patches @ filters.reshape(-1, filters.shape[-1])
    return out


def relu(x: np.ndarray) -> np.ndarray:
    """``tf.relu``."""
    out: np.ndarray = np.maximum(x, 0)
    return out
