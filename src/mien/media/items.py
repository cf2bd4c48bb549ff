"""What expanding a batch input yields: usable media items and per-file failures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["MediaFailure", "MediaItem", "MediaKind"]

MediaKind = Literal["image", "video", "audio", "text", "facemesh"]
"""The kinds of input the models read; archives are expanded before they become items."""


@dataclass(frozen=True)
class MediaItem:
    """One decodable input file, ready for the models."""

    name: str
    """File name, or the member's path inside its archive (e.g. ``faces/100.jpg``)."""
    kind: MediaKind
    path: Path
    """Where the bytes are on disk (inside the job's work folder for archive members)."""
    content_type: str
    """MIME type identified from the bytes, never from the name."""


@dataclass(frozen=True)
class MediaFailure:
    """One input that cannot be used; ``message`` is shown to the user as the file's error."""

    name: str
    message: str
