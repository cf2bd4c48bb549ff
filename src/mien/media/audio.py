"""Decode the audio track of any file into mono float samples at one rate, for the voice models.

PyAV decodes, so no system ffmpeg is needed. One ``av.AudioResampler`` per file averages the
channels to mono and converts the rate; it is flushed at the end so no tail is lost.
:func:`iter_audio` streams fixed-length chunks, so an hour-long file is never held whole.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from mien.errors import CorruptMediaError
from mien.media.containers import ffmpeg_reason, media_streams

__all__ = ["SAMPLE_RATE_HZ", "AudioChunk", "iter_audio", "load_audio"]

SAMPLE_RATE_HZ = 16_000
"""Rate the voice models read (hertz)."""
_MIXDOWN = {"rematrix_maxval": "1.0"}
"""Scale the downmix so it cannot pass full scale: stereo becomes (L + R) / 2, not 0.707 each."""


@dataclass(frozen=True)
class AudioChunk:
    """Consecutive samples of a file's audio track."""

    start_s: float
    """Time of the first sample, in seconds from the start of the track."""
    samples: np.ndarray
    """Mono ``float32`` samples in [-1, 1]."""


def load_audio(path: Path, sample_rate_hz: int = SAMPLE_RATE_HZ) -> np.ndarray:
    """Decode the first audio track of ``path`` whole: mono ``float32`` in [-1, 1].

    Raises:
        CorruptMediaError: the file has no audio track, or its audio cannot be decoded.
    """
    return np.concatenate(list(_decode(path, sample_rate_hz)))


def iter_audio(
    path: Path, chunk_s: float, sample_rate_hz: int = SAMPLE_RATE_HZ
) -> Iterator[AudioChunk]:
    """Yield the audio of ``path`` in consecutive chunks of ``chunk_s`` seconds.

    Every chunk but the last holds exactly ``round(chunk_s * sample_rate_hz)`` samples, and the
    chunks concatenate to :func:`load_audio`'s result.

    Raises:
        ValueError: ``chunk_s`` is shorter than one sample.
        CorruptMediaError: the file has no audio track, or its audio cannot be decoded.
    """
    size = round(chunk_s * sample_rate_hz) if math.isfinite(chunk_s) else 0
    if size < 1:
        raise ValueError(f"chunk_s must hold at least one sample, not {chunk_s}")
    pending: list[np.ndarray] = []
    pending_count = 0
    emitted = 0
    for piece in _decode(path, sample_rate_hz):
        pending.append(piece)
        pending_count += len(piece)
        if pending_count < size:
            continue
        joined = np.concatenate(pending)
        whole = len(joined) // size * size
        for start in range(0, whole, size):
            yield AudioChunk(start_s=emitted / sample_rate_hz, samples=joined[start : start + size])
            emitted += size
        pending = [joined[whole:]]
        pending_count = len(joined) - whole
    if pending_count:
        yield AudioChunk(start_s=emitted / sample_rate_hz, samples=np.concatenate(pending))


def _decode(path: Path, sample_rate_hz: int) -> Iterator[np.ndarray]:
    """Yield the resampled samples of the first audio track, frame by frame; never empty."""
    decoded = False
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            streams = media_streams(container, "audio")
            if not streams or not isinstance(streams[0], av.AudioStream):
                raise CorruptMediaError("the file has no audio track")
            resampler = av.AudioResampler(
                format="flt", layout="mono", rate=sample_rate_hz, options=_MIXDOWN
            )
            for frame in container.decode(streams[0]):
                for out in resampler.resample(frame):
                    decoded = True
                    yield _mono(out)
            for out in resampler.resample(None):
                decoded = True
                yield _mono(out)
    except av.FFmpegError as exc:
        raise CorruptMediaError(f"the audio is truncated or damaged: {ffmpeg_reason(exc)}") from exc
    if not decoded:
        raise CorruptMediaError("the audio track holds no decodable samples")


def _mono(frame: av.AudioFrame) -> np.ndarray:
    clipped: np.ndarray = np.clip(frame.to_ndarray()[0], -1.0, 1.0, dtype=np.float32)
    return clipped
