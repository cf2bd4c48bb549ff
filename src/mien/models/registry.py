"""Which models exist, which inputs each reads, and loading each once per process."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from mien.errors import ModelNotAvailableError
from mien.schemas import Group, InferenceRequest, Language, ModelBlock

if TYPE_CHECKING:
    from mien.media import MediaItem, MediaKind
    from mien.models.base import BatchModel
    from mien.models.language import LanguageModel
    from mien.models.voice.analysis import SpeechAnalyzer
    from mien.settings import Settings

__all__ = [
    "MODEL_KINDS",
    "applies",
    "available_models",
    "describe_models",
    "language_model",
    "load_model",
    "speech_analyzer",
]

MODEL_KINDS: Final[dict[str, frozenset[MediaKind]]] = {
    "face": frozenset({"image", "video"}),
    "burst": frozenset({"audio", "video"}),
    "prosody": frozenset({"audio", "video"}),
    "language": frozenset({"text", "audio", "video"}),
    "ner": frozenset({"text", "audio", "video"}),
    "facemesh": frozenset({"facemesh"}),
}
"""The input kinds each v0 model reads; a model is skipped on other kinds, as v0 did."""

_BUILT: Final = frozenset({"language", "ner", "face", "facemesh", "prosody", "burst"})
_SHARES_CARD: Final = {"facemesh": "face"}
"""Models documented by another model's card and recipe: facemesh is the face model's tail."""
_USES: Final = {
    "burst": ("transcription", "prosody"),
    "prosody": ("transcription", "burst"),
    "language": ("transcription",),
    "ner": ("transcription", "language"),
}
"""Cards whose weights a model also runs on (speech goes through transcription, speakers and
audio events; NER scores mentions with the language model)."""
_ASSETS: Final = Path(__file__).parent / "assets"
_loaded: dict[str, BatchModel] = {}
_speech: SpeechAnalyzer | None = None
_lock = threading.RLock()


def applies(name: str, kind: MediaKind) -> bool:
    """Whether model ``name`` reads inputs of ``kind``."""
    return kind in MODEL_KINDS.get(name, frozenset())


def available_models() -> list[str]:
    """Models this version of mien can run."""
    return [name for name in MODEL_KINDS if name in _BUILT]


def describe_models() -> list[dict[str, Any]]:
    """What each model is built from, per dimension: which scores rest on learned signal."""
    from mien.weights import ARTIFACTS

    described = []
    for name, kinds in MODEL_KINDS.items():
        documented = _SHARES_CARD.get(name, name)
        card = f"docs/models/{documented}.md"
        entry: dict[str, Any] = {"name": name, "available": name in _BUILT, "inputs": sorted(kinds)}
        if name in _BUILT:
            entry["card"] = card
            cards = {card} | {f"docs/models/{used}.md" for used in _USES.get(name, ())}
            entry["artifacts"] = [
                {
                    "name": a.name,
                    "package": f"{a.package}=={a.version}",
                    "sha256": a.sha256,
                    "licence": a.licence,
                    "card": a.card,
                }
                for a in ARTIFACTS.values()
                if a.card in cards
            ]
            entry["dimensions"] = _dimensions(documented)
        described.append(entry)
    return described


def _dimensions(name: str) -> list[dict[str, str]]:
    """Per-dimension provenance from the model's recipe file, if it has one."""
    recipes = _ASSETS / f"{name}_dimensions.json"
    if not recipes.exists():
        return []
    data = json.loads(recipes.read_text())
    return [
        {key: d[key] for key in ("name", "signal", "source", "note") if key in d}
        for d in data["dimensions"]
    ]


def load_model(name: str, settings: Settings) -> BatchModel:
    """The process-wide instance of model ``name``, loaded on first use."""
    if name not in _BUILT:
        raise ModelNotAvailableError(
            f"the {name} model is not available in this version of mien yet"
        )
    with _lock:
        if name not in _loaded:
            _loaded[name] = _build(name, settings)
        return _loaded[name]


def speech_analyzer(settings: Settings) -> SpeechAnalyzer:
    """The process-wide voice front-ends, shared by prosody, bursts, language and NER."""
    global _speech
    with _lock:
        if _speech is None:
            from mien.models.voice.analysis import SpeechAnalyzer

            _speech = SpeechAnalyzer(settings)
        return _speech


def language_model(settings: Settings) -> LanguageModel:
    """The process-wide language model itself, for callers with text rather than files."""
    files = load_model("language", settings)
    assert isinstance(files, LanguageFiles)
    return files.model


def _build(name: str, settings: Settings) -> BatchModel:
    if name == "language":
        from mien.models.language import LanguageModel

        return LanguageFiles(LanguageModel(settings), settings)
    if name == "ner":
        from mien.models.ner import NerModel

        return NerModel(settings)
    if name == "face":
        from mien.models.face.model import FaceModel

        return FaceModel(settings)
    if name == "facemesh":
        from mien.models.facemesh import FacemeshModel

        return FacemeshModel(settings)
    if name == "prosody":
        from mien.models.voice.prosody import ProsodyModel

        return ProsodyModel(speech_analyzer(settings))
    if name == "burst":
        from mien.models.voice.burst import BurstModel

        return BurstModel(speech_analyzer(settings))
    raise ModelNotAvailableError(f"unknown model {name!r}")


class LanguageFiles:
    """The language model over text files; speech input waits for transcription."""

    name = "language"
    kinds: frozenset[MediaKind] = MODEL_KINDS["language"]

    def __init__(self, model: LanguageModel, settings: Settings) -> None:
        """Wrap a loaded language model."""
        self.model = model
        self.settings = settings
        self.max_chars = settings.max_text_chars

    def predict_text(self, text: str, config: Language) -> ModelBlock:
        """Predict on a text, as one ``unknown`` speaker group."""
        predictions = self.model.predict(
            text,
            granularity=config.granularity,
            sentiment=config.sentiment is not None,
            toxicity=config.toxicity is not None,
        )
        return ModelBlock(
            metadata=None, grouped_predictions=[Group(id="unknown", predictions=list(predictions))]
        )

    def predict_file(
        self, item: MediaItem, request: InferenceRequest, outputs: Path | None = None
    ) -> ModelBlock:
        """Predict on a text file, or on the transcript of an audio or video file."""
        from mien.media import read_text

        config = (request.models.language if request.models else None) or Language()
        if item.kind == "text":
            return self.predict_text(read_text(item.path, self.max_chars), config)
        if request.transcription is None:
            raise ModelNotAvailableError(
                "the language model reads speech through its transcript, and transcription "
                "is switched off (transcription: null)"
            )
        from mien.models.voice.spoken import language_block

        analysis = speech_analyzer(self.settings).analyze(item.path, request)
        identify = config.identify_speakers or request.transcription.identify_speakers
        return language_block(self.model, analysis, config, identify=identify)
