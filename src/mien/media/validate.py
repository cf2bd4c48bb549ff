"""Check that a file of a recognised type really decodes, so a broken file fails on its own.

The checks are cheap: images decode once (JPEGs at 1/8 scale), audio and video decode their
first frame only, text decodes in full (it is needed whole anyway), facemesh JSON is parsed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mien.errors import CorruptMediaError
from mien.media.containers import decode_first_frame
from mien.media.image import opened_image
from mien.media.sniff import MediaType
from mien.media.text import read_text
from mien.settings import Settings

__all__ = ["FACEMESH_MAX_CHARS", "FACEMESH_POINTS", "load_facemesh", "parse_facemesh", "validate"]

FACEMESH_POINTS = 478
"""Landmarks per face in a facemesh input (MediaPipe Face Mesh with irises)."""
FACEMESH_MAX_CHARS = 64 * 1024 * 1024
"""Longest facemesh JSON accepted, about 4,000 faces; bounds the memory of parsing it."""


def validate(path: Path, media_type: MediaType, settings: Settings) -> None:
    """Decode enough of ``path`` to know the models can read it; archives are left alone.

    Raises:
        CorruptMediaError: the file is truncated, damaged or holds nothing to decode.
        TooLargeError: an image has too many pixels, or a text too many characters.
    """
    match media_type.kind:
        case "image":
            _check_image(path, media_type.label)
        case "video" | "audio":
            decode_first_frame(path, media_type.kind, media_type.label)
        case "text":
            read_text(path, settings.max_text_chars)
        case "facemesh":
            load_facemesh(path)
        case "archive":
            pass


def _check_image(path: Path, label: str) -> None:
    with opened_image(path, label) as image:
        image.draft(image.mode, (1, 1))
        image.load()


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")


def load_facemesh(path: Path) -> np.ndarray:
    """The landmarks of a facemesh JSON file as ``(n, 478, 3)`` float32.

    Raises:
        CorruptMediaError: the file is not a JSON list of faces of 478 ``[x, y, z]`` numbers.
    """
    return parse_facemesh(read_text(path, FACEMESH_MAX_CHARS))


def parse_facemesh(text: str) -> np.ndarray:
    """Parse and check facemesh JSON text; see :func:`load_facemesh`."""
    try:
        faces = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise CorruptMediaError(f"the facemesh JSON is not valid JSON: {exc}") from exc
    points = f"{FACEMESH_POINTS} points of 3 numbers"
    if not isinstance(faces, list):
        raise CorruptMediaError(f"the facemesh JSON must be a list of faces, each {points}")
    for index, face in enumerate(faces):
        if not (
            isinstance(face, list)
            and len(face) == FACEMESH_POINTS
            and all(_is_point(point) for point in face)
        ):
            raise CorruptMediaError(f"face {index} of the facemesh JSON is not {points}")
    return np.asarray(faces, dtype=np.float32).reshape(-1, FACEMESH_POINTS, 3)


def _is_point(point: object) -> bool:
    return (
        isinstance(point, list)
        and len(point) == 3
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
    )
