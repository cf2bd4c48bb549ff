"""Request configuration with the v0 defaults.

Parsing a request and dumping it again gives the fully resolved form that the job echoes in
``request``: every default filled in, as Hume's API did.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import Field, field_validator

from mien.schemas.common import WireModel

__all__ = [
    "BCP47_TAGS",
    "Face",
    "Granularity",
    "InferenceBaseRequest",
    "InferenceRequest",
    "Language",
    "Models",
    "MODEL_NAMES",
    "Ner",
    "Prosody",
    "SourceFile",
    "Transcription",
    "Unconfigurable",
    "Window",
]

Granularity = Literal["word", "sentence", "utterance", "conversational_turn"]
Unconfigurable = dict[str, Any]
"""An empty object that switches an output on (``facs: {}``), or a model with no options."""

MODEL_NAMES: tuple[str, ...] = ("face", "burst", "prosody", "language", "ner", "facemesh")
"""The models of the v0 API, in the order of ``Models``."""

BCP47_TAGS: tuple[str, ...] = (
    "zh", "da", "nl", "en", "en-AU", "en-IN", "en-NZ", "en-GB", "fr", "fr-CA", "de", "hi",
    "hi-Latn", "id", "it", "ja", "ko", "no", "pl", "pt", "pt-BR", "pt-PT", "ru", "es", "es-419",
    "sv", "ta", "tr", "uk",
)  # fmt: skip


class Face(WireModel):
    """Facial expression model options."""

    fps_pred: float = Field(default=3.0, ge=0)
    prob_threshold: float = Field(default=0.99, ge=0, le=1)
    identify_faces: bool = False
    min_face_size: int = Field(default=60, ge=0)
    facs: Unconfigurable | None = None
    descriptions: Unconfigurable | None = None
    save_faces: bool = False


class Window(WireModel):
    """Sliding window over audio, in seconds."""

    length: float = Field(default=4.0, ge=0.5)
    step: float = Field(default=1.0, ge=0.5)


class Prosody(WireModel):
    """Speech prosody model options."""

    granularity: Granularity = "utterance"
    window: Window | None = None
    identify_speakers: bool = False


class Language(WireModel):
    """Emotional language model options."""

    granularity: Granularity = "word"
    sentiment: Unconfigurable | None = None
    toxicity: Unconfigurable | None = None
    identify_speakers: bool = False


class Ner(WireModel):
    """Named-entity model options."""

    identify_speakers: bool = False


class Models(WireModel):
    """Which models run, each with its options; a missing key means the model does not run."""

    face: Face | None = None
    burst: Unconfigurable | None = None
    prosody: Prosody | None = None
    language: Language | None = None
    ner: Ner | None = None
    facemesh: Unconfigurable | None = None

    @classmethod
    def all_defaults(cls) -> Models:
        """Every model with its defaults: what v0 runs when ``models`` is omitted."""
        return cls(
            face=Face(), burst={}, prosody=Prosody(), language=Language(), ner=Ner(), facemesh={}
        )

    def requested(self) -> list[str]:
        """Names of the models that are switched on, in API order."""
        return [name for name in MODEL_NAMES if getattr(self, name) is not None]


class Transcription(WireModel):
    """Speech-to-text options; ``null`` in the request switches transcription off."""

    language: str | None = None
    identify_speakers: bool = False
    confidence_threshold: float = Field(default=0.5, ge=0, le=1)

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is not None and value not in BCP47_TAGS:
            raise ValueError(f"unsupported language {value!r}; use one of {', '.join(BCP47_TAGS)}")
        return value


class InferenceBaseRequest(WireModel):
    """The body of ``POST /v0/batch/jobs`` (JSON, or the ``json`` part of a multipart upload)."""

    models: Models | None = None
    transcription: Transcription | None = Field(default_factory=Transcription)
    urls: list[str] = Field(default_factory=list)
    text: list[str] = Field(default_factory=list)
    callback_url: str | None = None
    notify: bool = False

    @field_validator("urls", "text", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        return [] if value is None else value

    def resolved(self) -> Self:
        """This request with ``models`` filled in: all models when the field was omitted."""
        models = self.models if self.models is not None else Models.all_defaults()
        return self.model_copy(update={"models": models})


class SourceFile(WireModel):
    """An uploaded file as echoed in the job's request."""

    filename: str | None = None
    content_type: str | None = None
    md5sum: str


class InferenceRequest(InferenceBaseRequest):
    """The request a job echoes: the resolved base request plus the uploaded files."""

    files: list[SourceFile] = Field(default_factory=list)
