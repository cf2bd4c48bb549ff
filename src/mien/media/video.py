"""Decode a video file into sampled RGB frames, streaming, for the face models.

Sampling follows Hume's v0 output, where ``fps_pred`` frames are kept per second of source time:

- When the video stream states an average frame rate ``r`` (nearly every file), frames are
  counted in presentation order and frame ``round(k * r / fps_pred)`` is kept for k = 0, 1, 2…,
  with ``time_s = index / r``. At 29.97 fps and ``fps_pred=3`` that gives frames 0, 10, 20… and
  drifts to 509, 519… later on, as Hume's does.
- When it states none (some variable-frame-rate streams), times come from the frames' timestamps,
  counted from the first frame, and the first frame at or after each ``k / fps_pred`` is kept.

``fps_pred=0`` keeps every frame. Frames are rotated as the container's display matrix says, so
portrait phone videos come out upright.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.stream
import numpy as np

from mien.errors import CorruptMediaError
from mien.media.containers import ffmpeg_reason, media_streams

__all__ = ["VideoFrame", "VideoInfo", "iter_frames", "video_info"]

_PTS_SLACK_S = 0.0005
"""Timestamps are rounded to their time base (often 1 ms), so a frame this early still counts."""


@dataclass(frozen=True)
class VideoFrame:
    """One sampled frame."""

    index: int
    """Position of the frame in the source, counted from 0 in presentation order."""
    time_s: float
    """When the frame is shown, in seconds from the first frame."""
    image: np.ndarray
    """RGB ``uint8`` pixels, shape ``(height, width, 3)``, upright."""


@dataclass(frozen=True)
class VideoInfo:
    """What the container header says about a video; read without decoding it."""

    fps: float | None
    """Average frame rate; ``None`` when the stream states none (variable frame rate)."""
    frame_count: int
    """Frames in the video stream, estimated from duration and rate when the header has none."""
    duration_s: float
    width: int
    """Width in pixels as coded, before the display rotation that :func:`iter_frames` applies."""
    height: int
    """Height in pixels as coded, before the display rotation."""
    has_audio: bool


def video_info(path: Path) -> VideoInfo:
    """Read the video track's rate, size and length, and whether an audio track is present.

    Raises:
        CorruptMediaError: the file cannot be opened or has no video track.
    """
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            stream = _video_stream(container)
            rate = _average_rate(stream)
            duration_s = _duration_s(container, stream)
            frame_count = stream.frames or (round(duration_s * rate) if rate else 0)
            return VideoInfo(
                fps=float(rate) if rate else None,
                frame_count=frame_count,
                duration_s=duration_s,
                width=stream.codec_context.width,
                height=stream.codec_context.height,
                has_audio=bool(media_streams(container, "audio")),
            )
    except av.FFmpegError as exc:
        raise CorruptMediaError(f"the video file could not be read: {ffmpeg_reason(exc)}") from exc


def iter_frames(path: Path, fps_pred: float) -> Iterator[VideoFrame]:
    """Decode ``path`` and yield ``fps_pred`` frames per second of video (0: every frame).

    Frames are decoded one at a time and only kept ones are converted to RGB, so memory does
    not grow with the length of the video. See the module docstring for the sampling rule.

    Raises:
        ValueError: ``fps_pred`` is negative or not a number.
        CorruptMediaError: the file has no video track or its data cannot be decoded.
    """
    if not fps_pred >= 0 or math.isinf(fps_pred):
        raise ValueError(f"fps_pred must be a finite number >= 0, not {fps_pred}")
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            stream = _video_stream(container)
            rate = _average_rate(stream)
            frames = container.decode(stream)
            sampled = _by_index(frames, rate, fps_pred) if rate else _by_time(frames, fps_pred)
            for index, time_s, frame in sampled:
                yield VideoFrame(index=index, time_s=time_s, image=_upright_rgb(frame))
    except av.FFmpegError as exc:
        raise CorruptMediaError(
            f"the video file is truncated or damaged: {ffmpeg_reason(exc)}"
        ) from exc


def _video_stream(container: av.container.InputContainer) -> av.VideoStream:
    streams = media_streams(container, "video")
    if not streams or not isinstance(streams[0], av.VideoStream):
        raise CorruptMediaError("the file has no video track")
    return streams[0]


def _average_rate(stream: av.VideoStream) -> Fraction | None:
    rate = stream.average_rate
    return Fraction(rate) if rate else None


def _duration_s(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


_Sampled = Iterator[tuple[int, float, av.VideoFrame]]


def _by_index(frames: Iterator[av.VideoFrame], rate: Fraction, fps_pred: float) -> _Sampled:
    """Hume's rule: keep frame ``round(k * rate / fps_pred)``; its time is ``index / rate``."""
    step = rate / Fraction(fps_pred) if fps_pred else None
    k = 0
    for index, frame in enumerate(frames):
        if step is not None:
            if _round_half_up(k * step) > index:
                continue
            while _round_half_up(k * step) <= index:
                k += 1
        yield index, float(index / rate), frame


def _round_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


def _by_time(frames: Iterator[av.VideoFrame], fps_pred: float) -> _Sampled:
    """Keep the first frame at or after each ``k / fps_pred`` s of timestamps."""
    origin_s: float | None = None
    time_s = 0.0
    next_s = 0.0
    for index, frame in enumerate(frames):
        if frame.time is not None:
            origin_s = frame.time if origin_s is None else origin_s
            time_s = frame.time - origin_s
        if time_s + _PTS_SLACK_S < next_s:
            continue
        yield index, time_s, frame
        if fps_pred:
            next_s = (math.floor((time_s + _PTS_SLACK_S) * fps_pred) + 1) / fps_pred


def _upright_rgb(frame: av.VideoFrame) -> np.ndarray:
    pixels = frame.to_ndarray(format="rgb24")
    turns = round(frame.rotation / 90) % 4  # counterclockwise, as np.rot90 turns
    return np.ascontiguousarray(np.rot90(pixels, turns)) if turns else pixels
