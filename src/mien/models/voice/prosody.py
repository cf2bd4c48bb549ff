"""The speech prosody model: how something is said, on 48 dimensions, per span of speech.

Each span (a word, sentence, utterance, turn or window; :mod:`segments`) is measured by the
acoustic front-end (pitch, loudness, voice quality, spectral balance, rate and pauses) and by
YAMNet's audio events (laughter, sighs, crying, shouting… inside the speech). The cues are
normalised per speaker (:mod:`cues`) and mapped to the 48 names by the recipe in
``assets/prosody_dimensions.json``, grounded in the published acoustic profiles of vocal emotion
(docs/models/prosody.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from mien.media import MediaItem, MediaKind
from mien.models.recipe import derive, load_recipe, score
from mien.models.voice.acoustics import span_features
from mien.models.voice.analysis import SpeechAnalysis, SpeechAnalyzer
from mien.models.voice.cues import cue_signals, event_signals
from mien.models.voice.segments import SpeechSpan, spans
from mien.schemas import (
    EmotionScore,
    Group,
    InferenceRequest,
    ModelBlock,
    Prosody,
    ProsodyPrediction,
    TimeInterval,
    TranscriptionMetadata,
)
from mien.taxonomy import EMOTIONS_48

__all__ = ["ProsodyModel", "prosody_recipe", "score_spans"]


@cache
def prosody_recipe() -> dict[str, Any]:
    """The parsed prosody recipe (cues, norms, events, composites, 48 dimensions)."""
    return load_recipe("prosody", EMOTIONS_48)


def score_spans(
    analysis: SpeechAnalysis, found: Sequence[SpeechSpan], class_names: Sequence[str]
) -> np.ndarray:
    """``(n, 48)`` prosody scores of ``found`` spans of ``analysis``."""
    recipe = prosody_recipe()
    features = [
        span_features(analysis.frames, s.start_s, s.end_s, words=len(s.words) or None)
        for s in found
    ]
    signals = cue_signals(features, [s.speaker for s in found], recipe)
    times = [(s.start_s, s.end_s) for s in found]
    signals.update(event_signals(analysis.events, class_names, recipe["events"], times))
    derive(signals, recipe["composites"])
    return score(signals, recipe["dimensions"])


class ProsodyModel:
    """Speech prosody over audio files and the audio track of videos."""

    name = "prosody"
    kinds: frozenset[MediaKind] = frozenset({"audio", "video"})

    def __init__(self, analyzer: SpeechAnalyzer) -> None:
        """Share the voice front-ends with the other voice models of this process."""
        self.analyzer = analyzer

    def predict_file(
        self, item: MediaItem, request: InferenceRequest, outputs: Path | None = None
    ) -> ModelBlock:
        """Prosody of every span, grouped by speaker (``unknown`` unless asked for)."""
        config = (request.models.prosody if request.models else None) or Prosody()
        analysis = self.analyzer.analyze(item.path, request)
        window = (config.window.length, config.window.step) if config.window else None
        found = spans(analysis, config.granularity, window)
        groups: dict[str, list[ProsodyPrediction]] = {}
        if found:
            scores = score_spans(analysis, found, self.analyzer.events.class_names())
            identify = config.identify_speakers or bool(
                request.transcription and request.transcription.identify_speakers
            )
            for span, row in zip(found, scores, strict=True):
                group = span.speaker if identify else "unknown"
                groups.setdefault(group, []).append(_prediction(span, row, identify))
        return ModelBlock(
            metadata=metadata(analysis),
            grouped_predictions=[Group(id=k, predictions=list(v)) for k, v in groups.items()],
        )


def metadata(analysis: SpeechAnalysis) -> TranscriptionMetadata | None:
    """v0's transcription metadata, when the file was transcribed."""
    if analysis.transcript is None:
        return None
    return TranscriptionMetadata(
        confidence=analysis.transcript.confidence,
        detected_language=analysis.transcript.language,
    )


def _prediction(span: SpeechSpan, row: np.ndarray, identify: bool) -> ProsodyPrediction:
    return ProsodyPrediction(
        text=span.text,
        time=TimeInterval(begin=span.start_s, end=span.end_s),
        confidence=span.confidence,
        speaker_confidence=span.speaker_confidence if identify else None,
        emotions=[
            EmotionScore(name=name, score=float(v))
            for name, v in zip(EMOTIONS_48, row, strict=True)
        ],
    )
