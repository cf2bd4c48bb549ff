"""Where someone speaks: the Silero VAD that ships inside faster-whisper, no torch needed."""

from __future__ import annotations

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from mien.media.audio import SAMPLE_RATE_HZ

__all__ = ["VadOptions", "speech_stretches"]


def speech_stretches(
    samples: np.ndarray, options: VadOptions, offset_s: float = 0.0
) -> list[tuple[float, float]]:
    """Silero's speech regions of 16 kHz ``samples``, in seconds from ``offset_s``."""
    found = get_speech_timestamps(samples, options, sampling_rate=SAMPLE_RATE_HZ)
    return [
        (offset_s + s["start"] / SAMPLE_RATE_HZ, offset_s + s["end"] / SAMPLE_RATE_HZ)
        for s in found
    ]
