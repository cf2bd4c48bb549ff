"""Small value objects shared by batch and streaming wire formats."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = [
    "DescriptionsScore",
    "EmotionScore",
    "FacsScore",
    "PositionInterval",
    "SentimentScore",
    "TimeInterval",
    "ToxicityScore",
    "WireModel",
]


class WireModel(BaseModel):
    """Base of every wire object: tolerant on input, stable field order on output."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class EmotionScore(WireModel):
    """One named dimension and its score in [0, 1]."""

    name: str
    score: float


class SentimentScore(WireModel):
    """Probability of one sentiment level, ``name`` in "1".."9"."""

    name: str
    score: float


class ToxicityScore(WireModel):
    """Probability of one toxicity category."""

    name: str
    score: float


class FacsScore(WireModel):
    """Intensity of one FACS 2.0 item."""

    name: str
    score: float


class DescriptionsScore(WireModel):
    """Intensity of one face or vocal-burst description."""

    name: str
    score: float


class TimeInterval(WireModel):
    """A span of media time in seconds."""

    begin: float
    end: float


class PositionInterval(WireModel):
    """A span of characters: ``begin`` inclusive, ``end`` exclusive."""

    begin: int
    end: int
