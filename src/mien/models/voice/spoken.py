"""Language over speech: the language model on a transcript, with times and speakers.

The transcript's words are laid out in one text (:class:`SpeechAnalysis`), so text models predict
on character spans of it as they do for text files; each prediction then gets the time of its
words, their mean transcription ``confidence`` and the ``speaker_confidence`` of its speaker.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from mien.models.language import LanguageModel
from mien.models.voice.analysis import SpeechAnalysis, SpokenWord
from mien.models.voice.prosody import metadata
from mien.models.voice.segments import spans
from mien.schemas import (
    Group,
    Language,
    LanguagePrediction,
    ModelBlock,
    NerPrediction,
    TimeInterval,
)

__all__ = ["language_block", "place"]

_Placed = TypeVar("_Placed", LanguagePrediction, NerPrediction)


def language_block(
    model: LanguageModel, analysis: SpeechAnalysis, config: Language, *, identify: bool
) -> ModelBlock:
    """The language block of a transcribed file at ``config.granularity``."""
    sentiment, toxicity = config.sentiment is not None, config.toxicity is not None
    if not analysis.words:
        predictions: list[LanguagePrediction] = []
    elif config.granularity == "word":
        predictions = model.predict(
            analysis.text, granularity="word", sentiment=sentiment, toxicity=toxicity
        )
    else:
        found = spans(analysis, config.granularity)
        positions = [s.position for s in found if s.position is not None]
        predictions = model.predict_spans(
            analysis.text, positions, sentiment=sentiment, toxicity=toxicity
        )
    groups: dict[str, list[LanguagePrediction]] = {}
    for prediction in predictions:
        placed, speaker = place(prediction, analysis, identify=identify)
        groups.setdefault(speaker if identify else "unknown", []).append(placed)
    return ModelBlock(
        metadata=metadata(analysis),
        grouped_predictions=[Group(id=k, predictions=list(v)) for k, v in groups.items()],
    )


def place(prediction: _Placed, analysis: SpeechAnalysis, *, identify: bool) -> tuple[_Placed, str]:
    """``prediction`` with the time, confidence and speaker of the words under its position."""
    begin, end = prediction.position.begin, prediction.position.end
    words = _covered(analysis.words, begin, end)
    if not words:
        return prediction, "unknown"
    confidence = sum(w.confidence for w in words) / len(words)
    speaker, speaker_confidence = (
        analysis.speaker_at(words[0].start_s, words[-1].end_s)
        if analysis.turns
        else ("unknown", None)
    )
    placed = prediction.model_copy(
        update={
            "time": TimeInterval(begin=words[0].start_s, end=words[-1].end_s),
            "confidence": confidence,
            "speaker_confidence": speaker_confidence if identify else None,
        }
    )
    return placed, speaker


def _covered(words: Sequence[SpokenWord], begin: int, end: int) -> list[SpokenWord]:
    """The words overlapping characters ``[begin, end)`` of the transcript text."""
    return [w for w in words if w.begin < end and w.end > begin]
