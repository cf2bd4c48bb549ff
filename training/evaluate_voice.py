"""Check the prosody and burst recipes on real and synthetic voices; prints what the cards quote.

The prosody and burst recipes (src/mien/models/assets/{prosody,burst}_dimensions.json) are
hand-set from published acoustic profiles: no speech labelled with the 48 dimensions ships in a
registry package. This script is how they are checked:

1. the same sentences spoken by espeak-ng in three styles that differ only in the cues the
   profiles name (rate, pitch level and range, loudness): the high-arousal style must raise the
   high-arousal dimensions and the low-arousal style the low-arousal ones;
2. real laughs must come out as bursts typed as laughter, and plain speech as no burst.

    PYTHONPATH=. python training/evaluate_voice.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from mien.media import MediaItem
from mien.models.registry import load_model
from mien.schemas import InferenceRequest
from mien.settings import Settings
from mien.taxonomy import EMOTIONS_48
from tests.voice_media import speak, voice_media

SENTENCES = (
    "I have been waiting here for an hour and the train is late again.",
    "We finally got the results of the test this morning.",
    "She told me the whole story when we met at the station.",
)
STYLES = {  # espeak-ng: pitch 0-99, words per minute, amplitude 0-200
    "aroused": {"pitch": 85, "words_per_minute": 220, "amplitude": 190},
    "neutral": {"pitch": 50, "words_per_minute": 160, "amplitude": 100},
    "subdued": {"pitch": 20, "words_per_minute": 110, "amplitude": 40},
}
HIGH = ("Anger", "Excitement", "Fear", "Joy", "Surprise (positive)")
LOW = ("Sadness", "Tiredness", "Boredom", "Calmness", "Love")


def main() -> None:
    """Print the evaluation tables."""
    settings = Settings()
    prosody, burst = load_model("prosody", settings), load_model("burst", settings)
    request = InferenceRequest.model_validate({"models": {"prosody": {"granularity": "utterance"}}})
    folder = Path(tempfile.mkdtemp())
    means: dict[str, np.ndarray] = {}
    for style, voice in STYLES.items():
        rows = []
        for i, sentence in enumerate(SENTENCES):
            wav = speak(sentence, folder / f"{style}-{i}.wav", **voice)
            block = prosody.predict_file(MediaItem(wav.name, "audio", wav, ""), request)
            rows += [
                [e.score for e in p.emotions]
                for g in block.grouped_predictions
                for p in g.predictions
            ]  # type: ignore[union-attr]
        means[style] = np.mean(rows, axis=0)
    print("| dimension | " + " | ".join(STYLES) + " |\n|---|---|---|---|")
    for name in HIGH + LOW:
        i = EMOTIONS_48.index(name)
        print(f"| {name} | " + " | ".join(f"{means[s][i]:.2f}" for s in STYLES) + " |")
    print("\n| file | bursts | top burst types of the strongest | top emotion |\n|---|---|---|---|")
    burst_request = InferenceRequest.model_validate({"models": {"burst": {}}})
    for name in ("laugh-pompous.wav", "laugh-insane.wav", "jfk.wav", "beckett.wav"):
        path = voice_media(name)
        block = burst.predict_file(MediaItem(name, "audio", path, ""), burst_request)
        found = [p for g in block.grouped_predictions for p in g.predictions]
        if not found:
            print(f"| {name} | 0 | – | – |")
            continue
        strongest = max(found, key=lambda p: max(d.score for d in p.descriptions))  # type: ignore[union-attr]
        kinds = sorted(strongest.descriptions, key=lambda d: -d.score)[:3]  # type: ignore[union-attr]
        emotion = max(strongest.emotions, key=lambda e: e.score)
        described = ", ".join(f"{d.name} {d.score:.2f}" for d in kinds)
        print(f"| {name} | {len(found)} | {described} | {emotion.name} {emotion.score:.2f} |")


if __name__ == "__main__":
    main()
