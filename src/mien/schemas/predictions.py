"""Batch predictions: ``GET /v0/batch/jobs/{id}/predictions``.

One ``InferenceSourcePredictResult`` per source (URL, uploaded file, or all the request's text);
inside, one ``InferencePrediction`` per file (archive members are files of their own), and per
model a block of ``grouped_predictions`` keyed by face or speaker id.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

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
    "BoundingBox",
    "BurstPrediction",
    "FacePrediction",
    "FacemeshPrediction",
    "FileError",
    "Group",
    "InferencePrediction",
    "InferenceResults",
    "InferenceSourcePredictResult",
    "LanguagePrediction",
    "ModelBlock",
    "ModelsPredictions",
    "NerPrediction",
    "ProsodyPrediction",
    "Source",
    "SourceFileRef",
    "SourceText",
    "SourceUrl",
    "TranscriptionMetadata",
]


class BoundingBox(WireModel):
    """Face box in source pixels, ``x``/``y`` the top-left corner."""

    x: float
    y: float
    w: float
    h: float


class FacePrediction(WireModel):
    """One face in one frame."""

    frame: int
    time: float
    prob: float
    box: BoundingBox
    emotions: list[EmotionScore]
    facs: list[FacsScore] | None = None
    descriptions: list[DescriptionsScore] | None = None


class BurstPrediction(WireModel):
    """One vocal burst."""

    time: TimeInterval
    emotions: list[EmotionScore]
    descriptions: list[DescriptionsScore]


class ProsodyPrediction(WireModel):
    """Speech prosody over one segment."""

    text: str | None = None
    time: TimeInterval
    confidence: float | None = None
    speaker_confidence: float | None = None
    emotions: list[EmotionScore]


class LanguagePrediction(WireModel):
    """Emotional language over one span of text."""

    text: str
    position: PositionInterval
    time: TimeInterval | None = None
    confidence: float | None = None
    speaker_confidence: float | None = None
    emotions: list[EmotionScore]
    sentiment: list[SentimentScore] | None = None
    toxicity: list[ToxicityScore] | None = None


class NerPrediction(WireModel):
    """One named-entity mention and the emotions of the text around it."""

    entity: str
    position: PositionInterval
    entity_confidence: float
    support: float
    uri: str
    link_word: str
    time: TimeInterval | None = None
    confidence: float | None = None
    speaker_confidence: float | None = None
    emotions: list[EmotionScore]


class FacemeshPrediction(WireModel):
    """Expression scores of one face mesh."""

    emotions: list[EmotionScore]


class TranscriptionMetadata(WireModel):
    """How sure the transcription was, and the language it detected."""

    confidence: float
    detected_language: str | None = None


class Group(WireModel):
    """Predictions of one face or speaker (``unknown`` when identities are off)."""

    id: str
    predictions: list[
        FacePrediction
        | BurstPrediction
        | ProsodyPrediction
        | LanguagePrediction
        | NerPrediction
        | FacemeshPrediction
    ]


class ModelBlock(WireModel):
    """One model's output for one file."""

    metadata: TranscriptionMetadata | None = None
    grouped_predictions: list[Group]


class ModelsPredictions(WireModel):
    """Per-model blocks; a model that did not run on the file is absent."""

    face: ModelBlock | None = None
    burst: ModelBlock | None = None
    prosody: ModelBlock | None = None
    language: ModelBlock | None = None
    ner: ModelBlock | None = None
    facemesh: ModelBlock | None = None


class InferencePrediction(WireModel):
    """All model outputs for one file, ``file`` relative to its source."""

    file: str
    file_type: str | None = None
    """What the file was read as: image, video, video_no_audio, audio, text or facemesh."""
    models: ModelsPredictions


class FileError(WireModel):
    """A file that failed; the rest of the source still has its predictions."""

    message: str
    file: str


class InferenceResults(WireModel):
    """Predictions and per-file errors of one source."""

    predictions: list[InferencePrediction] = Field(default_factory=list)
    errors: list[FileError] = Field(default_factory=list)


class SourceUrl(WireModel):
    """A source given by URL."""

    type: Literal["url"] = "url"
    url: str


class SourceFileRef(WireModel):
    """A source uploaded as a file."""

    type: Literal["file"] = "file"
    filename: str | None = None
    content_type: str | None = None
    md5sum: str


class SourceText(WireModel):
    """The request's ``text`` entries."""

    type: Literal["text"] = "text"


Source = Annotated[SourceUrl | SourceFileRef | SourceText, Field(discriminator="type")]


class InferenceSourcePredictResult(WireModel):
    """Everything one source produced: results, or a source-level error."""

    source: Source
    results: InferenceResults | None = None
    error: str | None = None
