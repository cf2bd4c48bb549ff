"""What a streamed payload is: its kind, pixel size or duration, for the per-message limits."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import av

from mien.errors import CorruptMediaError
from mien.media.containers import probe_tracks
from mien.media.image import opened_image
from mien.media.sniff import SniffedKind, sniff

__all__ = ["PayloadInfo", "inspect_payload"]


@dataclass(frozen=True)
class PayloadInfo:
    """The facts the streaming limits need."""

    kind: SniffedKind
    width_px: int = 0
    height_px: int = 0
    duration_ms: float = 0.0
    has_audio: bool = False


def inspect_payload(data: bytes, scratch: Path | None = None) -> PayloadInfo:
    """Identify ``data`` from its bytes; raises ``MediaError`` when it is empty or unreadable.

    The sniffer and PyAV read files, so the bytes are spilled to a temporary file in ``scratch``.
    """
    if not data:
        raise CorruptMediaError("data is empty")
    with tempfile.NamedTemporaryFile(prefix="payload-", dir=scratch) as spill:
        spill.write(data)
        spill.flush()
        path = Path(spill.name)
        media_type = sniff(path)
        if media_type.kind == "image":
            with opened_image(path, media_type.label) as image:
                width, height = image.size
            return PayloadInfo("image", width_px=width, height_px=height)
        if media_type.kind in ("audio", "video"):
            tracks = probe_tracks(path, media_type.label)
            return PayloadInfo(
                media_type.kind, duration_ms=_duration_ms(path), has_audio=tracks.audio
            )
        return PayloadInfo(media_type.kind)


def _duration_ms(path: Path) -> float:
    """Container duration, or the longest stream's when the container does not say."""
    with av.open(str(path), metadata_errors="replace") as container:
        if container.duration:
            return float(container.duration) / av.time_base * 1000
        longest = 0.0
        for stream in container.streams:
            if stream.duration and stream.time_base:
                longest = max(longest, float(stream.duration * stream.time_base) * 1000)
        return longest
