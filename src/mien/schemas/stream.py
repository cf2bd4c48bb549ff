"""Streaming wire format of ``/v0/stream/models``.

Streaming differs from batch on purpose (v0-api.md §2.3): faces are flat with ``bbox`` and
``face_id``, there is no group wrapper, and prosody has no ``text``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mien.schemas.common import (
    DescriptionsScore,
    EmotionScore,
    FacsScore,
    PositionInterval,
    SentimentScore,
    TimeInterval,
    ToxicityScore,
    WireModel,
)

__all__ = [
    "JobDetails",
    "StreamBoundingBox",
    "StreamBurstPrediction",
    "StreamConfig",
    "StreamError",
    "StreamFace",
    "StreamFacePrediction",
    "StreamFacemeshPrediction",
    "StreamLanguage",
    "StreamLanguagePrediction",
    "StreamModelBlock",
    "StreamPayload",
    "StreamPredictions",
    "StreamProsodyPrediction",
    "StreamWarning",
]

StreamGranularity = Literal["word", "sentence", "utterance", "passage"]


class _Strict(BaseModel):
    """Client messages: unknown keys are an E0101 error, as v0 answered them."""

    model_config = ConfigDict(extra="forbid")


class StreamFace(_Strict):
    """Streaming face options (same defaults as batch)."""

    facs: dict[str, Any] | None = None
    descriptions: dict[str, Any] | None = None
    identify_faces: bool = False
    fps_pred: float = Field(default=3.0, ge=0)
    prob_threshold: float = Field(default=0.99, ge=0, le=1)
    min_face_size: float = Field(default=60, ge=0)


class StreamLanguage(_Strict):
    """Streaming language options; ``passage`` gives one prediction for the whole payload."""

    sentiment: dict[str, Any] | None = None
    toxicity: dict[str, Any] | None = None
    granularity: StreamGranularity = "word"


class StreamConfig(_Strict):
    """Models to run on one payload."""

    face: StreamFace | None = None
    language: StreamLanguage | None = None
    prosody: dict[str, Any] | None = None
    burst: dict[str, Any] | None = None
    facemesh: dict[str, Any] | None = None

    def requested(self) -> list[str]:
        """Names of the models switched on."""
        return [
            n
            for n in ("face", "language", "prosody", "burst", "facemesh")
            if getattr(self, n) is not None
        ]


class StreamPayload(_Strict):
    """One client message."""

    data: str | None = None
    models: StreamConfig | None = None
    stream_window_ms: float | None = Field(default=None, ge=500, le=10_000)
    reset_stream: bool | None = False
    raw_text: bool | None = False
    job_details: bool | None = False
    payload_id: str | None = None


class JobDetails(WireModel):
    """The streaming session's job id."""

    job_id: str


class StreamBoundingBox(WireModel):
    """Face box in pixels."""

    x: float
    y: float
    w: float
    h: float


class StreamFacePrediction(WireModel):
    """One face of a streamed image."""

    frame: int
    time: float
    bbox: StreamBoundingBox
    prob: float
    face_id: str
    emotions: list[EmotionScore]
    facs: list[FacsScore] | None = None
    descriptions: list[DescriptionsScore] | None = None


class StreamLanguagePrediction(WireModel):
    """Emotional language over one span of the streamed text."""

    text: str
    position: PositionInterval
    emotions: list[EmotionScore]
    sentiment: list[SentimentScore] | None = None
    toxicity: list[ToxicityScore] | None = None


class StreamProsodyPrediction(WireModel):
    """Speech prosody over one stretch of streamed audio."""

    time: TimeInterval
    emotions: list[EmotionScore]


class StreamBurstPrediction(WireModel):
    """One vocal burst in streamed audio."""

    time: TimeInterval
    emotions: list[EmotionScore]


class StreamFacemeshPrediction(WireModel):
    """Expression scores of one streamed face mesh."""

    emotions: list[EmotionScore]


class StreamModelBlock(WireModel):
    """One model's answer: predictions, or a warning such as W0103 (no faces)."""

    predictions: list[Any] | None = None
    warning: str | None = None
    code: str | None = None


class StreamPredictions(WireModel):
    """Answer to a payload that ran models (or only asked for job details / a reset)."""

    payload_id: str | None = None
    job_details: JobDetails | None = None
    burst: StreamModelBlock | None = None
    face: StreamModelBlock | None = None
    facemesh: StreamModelBlock | None = None
    language: StreamModelBlock | None = None
    prosody: StreamModelBlock | None = None


class StreamError(WireModel):
    """An error answer; the socket stays open."""

    error: str
    code: str
    payload_id: str | None = None
    job_details: JobDetails | None = None


class StreamWarning(WireModel):
    """A warning answer, e.g. W0101 no vocal bursts."""

    warning: str
    code: str
    payload_id: str | None = None
    job_details: JobDetails | None = None
