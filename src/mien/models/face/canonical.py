"""MediaPipe's canonical face mesh, read from the face landmarker's geometry metadata.

``geometry_pipeline_metadata_landmarks.binarypb`` (inside ``face_landmarker.task``) is a
``GeometryPipelineMetadata`` protobuf: field 1 the canonical ``Mesh3d`` (field 3: vertex buffer,
5 floats x, y, z, u, v per vertex, 468 vertices, centimetres, y up, z towards the viewer), field 2
the weighted landmarks MediaPipe fits head pose on (``landmark_id`` = 1, ``weight`` = 2). The file
is 19 KB, so a small wire-format reader replaces a protobuf dependency and generated code.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

__all__ = ["CanonicalFace", "parse_geometry_metadata"]

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


@dataclass(frozen=True)
class CanonicalFace:
    """The mean face and the landmark weights MediaPipe uses to fit a head pose to it."""

    vertices: np.ndarray  # (468, 3) float64, x right (subject's left), y up, z to the viewer
    basis_ids: np.ndarray  # (k,) int64 landmark indices for the pose fit
    basis_weights: np.ndarray  # (k,) float64


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _fields(data: bytes) -> Iterator[tuple[int, int | float | bytes]]:
    """Yield (field number, value) of one message: ints, floats (fixed32) or raw bytes."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: int | float | bytes
        if wire == _VARINT:
            value, pos = _varint(data, pos)
        elif wire == _LEN:
            size, pos = _varint(data, pos)
            value, pos = data[pos : pos + size], pos + size
        elif wire == _I32:
            value, pos = struct.unpack_from("<f", data, pos)[0], pos + 4
        elif wire == _I64:
            value, pos = data[pos : pos + 8], pos + 8
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, value


def _floats(values: list[int | float | bytes]) -> list[float]:
    """A repeated float field, written either packed (bytes) or one fixed32 per value."""
    out: list[float] = []
    for value in values:
        if isinstance(value, bytes):
            out.extend(np.frombuffer(value, "<f4").tolist())
        else:
            out.append(float(value))
    return out


def parse_geometry_metadata(data: bytes) -> CanonicalFace:
    """Parse the metadata file; raises ``ValueError`` when it is not the layout described above."""
    mesh = b""
    ids: list[int] = []
    weights: list[float] = []
    for number, value in _fields(data):
        if number == 1 and isinstance(value, bytes):
            mesh = value
        elif number == 2 and isinstance(value, bytes):
            entry = dict(_fields(value))
            ids.append(int(entry.get(1, 0)))
            weights.append(float(entry.get(2, 0.0)))
    buffer = _floats([value for number, value in _fields(mesh) if number == 3])
    if len(buffer) != 468 * 5 or not ids:
        raise ValueError(f"unexpected canonical mesh: {len(buffer)} floats, {len(ids)} weights")
    vertices = np.asarray(buffer, dtype=np.float64).reshape(468, 5)[:, :3]
    return CanonicalFace(vertices, np.asarray(ids, dtype=np.int64), np.asarray(weights))
