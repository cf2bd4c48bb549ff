"""PyAV checks shared by sniffing and validation.

They tell which tracks a container holds and whether its first frame decodes. Only the start of a
file is read, so the checks stay cheap on long media.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import av
import av.container
import av.stream

from mien.errors import CorruptMediaError

__all__ = [
    "StreamKind",
    "Tracks",
    "decode_first_frame",
    "ffmpeg_reason",
    "media_streams",
    "probe_tracks",
]

MAX_PACKETS = 500
"""Packets read while looking for a first decodable frame; bounds the work on a broken file."""

StreamKind = Literal["video", "audio"]


@dataclass(frozen=True)
class Tracks:
    """Which kinds of track a container holds (cover art does not count as video)."""

    video: bool
    audio: bool


def media_streams(
    container: av.container.InputContainer, kind: StreamKind
) -> list[av.stream.Stream]:
    """The container's tracks of ``kind``; cover art is a picture, not a video track."""
    if kind == "audio":
        return list(container.streams.audio)
    return [
        stream
        for stream in container.streams.video
        if not stream.disposition & av.stream.Disposition.attached_pic
    ]


def ffmpeg_reason(exc: av.FFmpegError) -> str:
    """FFmpeg's reason without the server-side path that PyAV appends to its message."""
    return exc.strerror or type(exc).__name__


def probe_tracks(path: Path, label: str) -> Tracks:
    """Open a container and list its tracks; ``label`` names the format in error messages."""
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            return Tracks(
                video=bool(media_streams(container, "video")),
                audio=bool(media_streams(container, "audio")),
            )
    except av.FFmpegError as exc:
        raise CorruptMediaError(
            f"the {label} file could not be read: {ffmpeg_reason(exc)}"
        ) from exc


def decode_first_frame(path: Path, kind: StreamKind, label: str) -> None:
    """Decode the first frame of the first ``kind`` track, or raise CorruptMediaError."""
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            streams = media_streams(container, kind)
            if not streams:
                raise CorruptMediaError(f"the {label} file has no {kind} track")
            for count, packet in enumerate(container.demux(streams[0])):
                if packet.decode():
                    return
                if count >= MAX_PACKETS:
                    break
    except av.FFmpegError as exc:
        raise CorruptMediaError(
            f"the {label} file is truncated or damaged: {ffmpeg_reason(exc)}"
        ) from exc
    raise CorruptMediaError(f"the {label} file has no decodable {kind} frames")
