"""The vocal burst model: laughs, sighs, cries, gasps, "hmm", "oh", "ugh"… found over all audio.

Bursts are found where YAMNet (521 AudioSet classes) hears a non-speech vocalisation — over the
whole track, not only where the speech detector fires, since that detector is trained to ignore
laughs and cries — and where Whisper wrote an interjection on its own ("Ha ha ha!", "Hmm.",
"Ugh."). Each burst gets the 67 burst types and the 48 dimensions from the recipe in
``assets/burst_dimensions.json`` (docs/models/burst.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from mien.media import MediaItem, MediaKind
from mien.models.recipe import Signals, derive, load_recipe, score
from mien.models.voice.acoustics import span_features
from mien.models.voice.analysis import SpeechAnalysis, SpeechAnalyzer, SpokenWord
from mien.models.voice.cues import cue_signals, event_signals
from mien.models.voice.prosody import prosody_recipe
from mien.schemas import (
    BurstPrediction,
    DescriptionsScore,
    EmotionScore,
    Group,
    InferenceRequest,
    ModelBlock,
    TimeInterval,
)
from mien.taxonomy import BURST_DESCRIPTIONS, EMOTIONS_48

__all__ = ["Burst", "BurstModel", "find_bursts"]

_ISOLATED_S = 0.25
"""An interjection counts as a burst when this much silence (or a burst) surrounds it."""
_WORD_SLACK_S = 0.2


@dataclass(frozen=True)
class Burst:
    """One vocal burst with its scores."""

    start_s: float
    end_s: float
    descriptions: np.ndarray
    """67 scores in ``BURST_DESCRIPTIONS`` order."""
    emotions: np.ndarray
    """48 scores in ``EMOTIONS_48`` order."""


@cache
def burst_recipe() -> dict[str, Any]:
    """The parsed burst recipe, with its interjection patterns compiled."""
    recipe = load_recipe("burst", EMOTIONS_48)
    names = tuple(d["name"] for d in recipe["descriptions"])
    if names != BURST_DESCRIPTIONS:
        raise ValueError("burst_dimensions.json: descriptions must be the 67 burst types in order")
    recipe["patterns"] = {cue: re.compile(p) for cue, p in recipe["interjections"].items()}
    return recipe


def find_bursts(analysis: SpeechAnalysis, class_names: Sequence[str]) -> list[Burst]:
    """Every vocal burst of ``analysis``, in time order, scored."""
    recipe = burst_recipe()
    stretches = _candidates(analysis, class_names, recipe)
    if not stretches:
        return []
    signals = _signals(analysis, stretches, class_names, recipe)
    descriptions = score(signals, recipe["descriptions"])
    for j, name in enumerate(BURST_DESCRIPTIONS):
        signals[f"d_{name}"] = descriptions[:, j]
    emotions = score(signals, recipe["dimensions"])
    return [
        Burst(start, end, descriptions[i], emotions[i]) for i, (start, end) in enumerate(stretches)
    ]


def _candidates(
    analysis: SpeechAnalysis, class_names: Sequence[str], recipe: dict[str, Any]
) -> list[tuple[float, float]]:
    """Runs of YAMNet patches that sound like a burst, plus isolated interjection words."""
    events = analysis.events
    index = {name: i for i, name in enumerate(class_names)}
    burst_columns = [index[n] for names in recipe["events"].values() for n in names if n in index]
    stretches: list[tuple[float, float]] = []
    if len(events.scores):
        burst = events.scores[:, burst_columns].max(axis=1)
        speech = events.scores[:, index["Speech"]] if "Speech" in index else np.zeros(len(burst))
        hot = (burst >= recipe["burst_threshold"]) & (burst >= 0.5 * speech)
        for i in np.flatnonzero(hot):
            begin, end = (float(t) for t in events.times_s[i])
            if stretches and begin <= stretches[-1][1]:
                stretches[-1] = (stretches[-1][0], end)
            else:
                stretches.append((begin, end))
    for k, word in enumerate(analysis.words):
        if _interjection(word, recipe) and _isolated(analysis.words, k):
            stretches.append((word.start_s, word.end_s))
    return _union(stretches, recipe["min_duration_s"], analysis.duration_s)


def _interjection(word: SpokenWord, recipe: dict[str, Any]) -> str | None:
    token = re.sub(r"[^\w'-]", "", word.text.lower())
    for cue, pattern in recipe["patterns"].items():
        if pattern.match(token):
            return str(cue)
    return None


def _isolated(words: Sequence[SpokenWord], k: int) -> bool:
    before = words[k].start_s - words[k - 1].end_s if k > 0 else _ISOLATED_S
    after = words[k + 1].start_s - words[k].end_s if k + 1 < len(words) else _ISOLATED_S
    return min(before, after) >= _ISOLATED_S or words[k].text.rstrip().endswith(("!", "?"))


def _union(
    stretches: list[tuple[float, float]], min_s: float, duration_s: float
) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(stretches):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return [(s, min(e, duration_s)) for s, e in merged if min(e, duration_s) - s >= min_s]


def _signals(
    analysis: SpeechAnalysis,
    stretches: list[tuple[float, float]],
    class_names: Sequence[str],
    recipe: dict[str, Any],
) -> Signals:
    """Event kinds, interjection cues and prosodic cues (against the file's speech)."""
    signals = event_signals(
        analysis.events, class_names, recipe["events"], stretches, reduce="max", prefix=""
    )
    for cue in recipe["patterns"]:
        signals[f"t_{cue}"] = np.zeros(len(stretches))
    for j, (start, end) in enumerate(stretches):
        for word in analysis.words:
            if word.start_s >= start - _WORD_SLACK_S and word.end_s <= end + _WORD_SLACK_S:
                cue = _interjection(word, recipe)
                if cue is not None:
                    signals[f"t_{cue}"][j] = 1.0
    prosody = prosody_recipe()
    reference = list(analysis.speech)
    features = [span_features(analysis.frames, s, e) for s, e in stretches + reference]
    cues = cue_signals(features, ["file"] * len(features), prosody)
    signals.update({name: values[: len(stretches)] for name, values in cues.items()})
    derive(signals, prosody["composites"])
    return signals


class BurstModel:
    """Vocal bursts over audio files and the audio track of videos."""

    name = "burst"
    kinds: frozenset[MediaKind] = frozenset({"audio", "video"})

    def __init__(self, analyzer: SpeechAnalyzer) -> None:
        """Share the voice front-ends with the other voice models of this process."""
        self.analyzer = analyzer

    def predict_file(
        self, item: MediaItem, request: InferenceRequest, outputs: Path | None = None
    ) -> ModelBlock:
        """Every burst of the file, as one ``unknown`` group (none: no groups)."""
        analysis = self.analyzer.analyze(item.path, request)
        bursts = find_bursts(analysis, self.analyzer.events.class_names())
        predictions = [burst_prediction(b) for b in bursts]
        groups = [Group(id="unknown", predictions=list(predictions))] if predictions else []
        return ModelBlock(metadata=None, grouped_predictions=groups)


def burst_prediction(burst: Burst) -> BurstPrediction:
    """One burst as v0's batch prediction."""
    return BurstPrediction(
        time=TimeInterval(begin=burst.start_s, end=burst.end_s),
        emotions=[
            EmotionScore(name=n, score=float(v))
            for n, v in zip(EMOTIONS_48, burst.emotions, strict=True)
        ],
        descriptions=[
            DescriptionsScore(name=n, score=float(v))
            for n, v in zip(BURST_DESCRIPTIONS, burst.descriptions, strict=True)
        ],
    )
