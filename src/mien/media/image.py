"""Decode an image file into the RGB array the face models read.

Pixels come out as they are displayed: EXIF orientation is applied, an animation gives its first
frame, transparency is composited over white, and 16-bit greyscale is scaled down, not clipped.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mien.errors import CorruptMediaError, MienError, TooLargeError

__all__ = ["load_image", "opened_image"]

_WHITE = (255, 255, 255)
_SIXTEEN_BIT_MODES = ("I", "I;16", "I;16L", "I;16B", "I;16N")
"""Integer greyscale modes Pillow opens 16-bit PNG and TIFF as; their range is 0–65535."""


@contextmanager
def opened_image(path: Path, label: str = "") -> Iterator[Image.Image]:
    """Open ``path`` with Pillow, turning its errors into mien's.

    Pillow's many error types, raised while the image is used inside the block, become
    ``CorruptMediaError`` or ``TooLargeError`` with a message for the user.
    """
    subject = f"the {label} image" if label else "the image"
    damaged = f"{subject} is truncated or damaged"
    try:
        with warnings.catch_warnings():
            # Pillow warns up to twice its pixel limit and raises above it; the raise is the limit.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                yield image
    except MienError:
        raise
    except Image.DecompressionBombError as exc:
        raise TooLargeError(f"{subject} has too many pixels: {exc}") from exc
    except UnidentifiedImageError as exc:  # its message holds the server-side path
        raise CorruptMediaError(damaged) from exc
    except Exception as exc:  # Pillow's decoders raise many exception types on malformed input
        raise CorruptMediaError(f"{damaged}: {exc}") from exc


def load_image(path: Path) -> np.ndarray:
    """Decode ``path`` into an RGB ``uint8`` array of shape ``(height, width, 3)``.

    Raises:
        CorruptMediaError: the file is not an image Pillow can decode, or is truncated.
        TooLargeError: the image has more pixels than Pillow's decompression-bomb limit.
    """
    with opened_image(path) as image:
        image.load()
        return _to_rgb(ImageOps.exif_transpose(image))


def _to_rgb(image: Image.Image) -> np.ndarray:
    if image.mode in _SIXTEEN_BIT_MODES:
        grey = np.asarray(image, dtype=np.float64) / 257
        return np.repeat(np.clip(np.rint(grey), 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (*_WHITE, 255)), rgba)
    return np.array(image.convert("RGB"), dtype=np.uint8)
