"""Prosodic cues and audio events of spans, as recipe signals in [0, 1].

Acoustic features mean little in absolute terms (a high voice is not an excited voice), so each
is z-scored against the speaker's own spans, blended with adult population norms: a speaker with
few spans of their own is compared with the norms alone. A z-score becomes two signals,
``<cue>_high = clip(z / 2, 0, 1)`` and ``<cue>_low = clip(-z / 2, 0, 1)``, named in the
prosody recipe's ``cues`` table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mien.models.recipe import Signals
from mien.models.voice.events import EventScores

__all__ = ["cue_signals", "event_signals"]


def cue_signals(
    features: Sequence[Mapping[str, float]],
    speakers: Sequence[str],
    recipe: Mapping[str, Any],
) -> Signals:
    """High/low signals of every cue for spans with these ``features`` and ``speakers``."""
    signals: Signals = {}
    norms, cues = recipe["norms"], recipe["cues"]
    weight, min_spans = recipe["speaker_weight"], recipe["speaker_min_spans"]
    speaker_of = np.array(speakers)
    for feature, (high, low) in cues.items():
        values = np.array([f[feature] for f in features], dtype=np.float64)
        norm_mean, norm_sd = norms[feature]
        z = (values - norm_mean) / norm_sd
        for speaker in set(speakers):
            mine = speaker_of == speaker
            if mine.sum() >= min_spans:
                own_sd = max(float(values[mine].std()), 0.5 * norm_sd)
                own = (values[mine] - values[mine].mean()) / own_sd
                z[mine] = weight * own + (1 - weight) * z[mine]
        signals[high] = np.clip(z / 2, 0.0, 1.0)
        signals[low] = np.clip(-z / 2, 0.0, 1.0)
    return signals


def event_signals(
    events: EventScores,
    class_names: Sequence[str],
    groups: Mapping[str, Sequence[str]],
    times: Sequence[tuple[float, float]],
    *,
    reduce: str = "mean",
    prefix: str = "ev_",
) -> Signals:
    """Per span, the strongest YAMNet class of each group, as ``<prefix><group>``.

    The strongest class is averaged (or maxed) over the patches that overlap the span.
    """
    index = {name: i for i, name in enumerate(class_names)}
    strongest = {
        group: events.scores[:, [index[n] for n in names if n in index]].max(axis=1)
        for group, names in groups.items()
    }
    signals: Signals = {prefix + group: np.zeros(len(times)) for group in groups}
    begins, ends = events.times_s[:, 0], events.times_s[:, 1]
    for j, (start, end) in enumerate(times):
        overlap = (begins < end) & (ends > start)
        if not overlap.any():  # a span shorter than a patch: the patch nearest its middle
            middle = (start + end) / 2
            overlap = np.zeros(len(begins), dtype=bool)
            if len(begins):
                overlap[int(np.argmin(np.abs((begins + ends) / 2 - middle)))] = True
        for group, values in strongest.items():
            if overlap.any():
                picked = values[overlap]
                signals[prefix + group][j] = picked.max() if reduce == "max" else picked.mean()
    return signals
