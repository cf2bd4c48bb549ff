"""The numpy acoustic front-end and YAMNet audio events, on synthetic and real recordings."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mien.media.audio import SAMPLE_RATE_HZ, load_audio
from mien.models.voice.acoustics import FRAME_RATE_HZ, SPAN_FEATURES, frames, span_features
from mien.models.voice.events import PATCH_HOP_S, AudioEvents
from tests.conftest import make_settings
from tests.voice_media import speak, voice_media

LAUGHS = ("Laughter", "Giggle", "Snicker", "Belly laugh", "Chuckle, chortle")


def _sine(hz: float, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * SAMPLE_RATE_HZ)) / SAMPLE_RATE_HZ
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _duration(audio: np.ndarray) -> float:
    return len(audio) / SAMPLE_RATE_HZ


def test_sine_reads_its_pitch() -> None:
    f = frames(_sine(200.0, 1.0))
    assert len(f.f0_hz) == FRAME_RATE_HZ
    assert f.voiced.mean() > 0.95
    assert np.all(np.abs(f.f0_hz[f.voiced] - 200.0) < 2.0)
    assert f.hnr_db[f.voiced].mean() > 20  # a pure tone is all harmonic


def test_silence_is_unvoiced_and_neutral() -> None:
    f = frames(np.zeros(SAMPLE_RATE_HZ, np.float32))
    assert not f.voiced.any()
    assert np.all(f.f0_hz == 0)
    features = span_features(f, 0.0, 1.0)
    assert list(features) == list(SPAN_FEATURES)
    assert all(math.isfinite(v) for v in features.values())
    assert features["voiced_fraction"] == 0 and features["f0_mean_st"] == 0


def test_espeak_pitch_setting_orders_f0(tmp_path: Path) -> None:
    text = "The quick brown fox jumps over the lazy dog near the bank of the river."
    means = {}
    for pitch in (20, 80):
        audio = load_audio(speak(text, tmp_path / f"p{pitch}.wav", pitch=pitch))
        features = span_features(frames(audio), 0.0, _duration(audio), words=15)
        assert features["voiced_fraction"] > 0.3
        means[pitch] = features["f0_mean_st"]
    assert means[80] - means[20] > 6  # espeak's -p 20 vs -p 80: about 78 Hz vs 138 Hz


def test_gain_shifts_loudness_only() -> None:
    audio = load_audio(voice_media("jfk.wav"))
    loud, quiet = (span_features(frames(audio * g), 0.0, _duration(audio)) for g in (1.0, 0.1))
    assert loud["loudness_mean_db"] - quiet["loudness_mean_db"] == pytest.approx(20.0, abs=0.1)
    assert quiet["voiced_fraction"] == pytest.approx(loud["voiced_fraction"], abs=0.02)
    assert quiet["f0_mean_st"] == pytest.approx(loud["f0_mean_st"], abs=0.2)


def test_real_speech_features() -> None:
    jfk, beckett = (load_audio(voice_media(name)) for name in ("jfk.wav", "beckett.wav"))
    fj, fb = frames(jfk), frames(beckett)
    assert 150 < np.median(fj.f0_hz[fj.voiced]) < 300  # JFK's raised oratory voice
    assert 80 < np.median(fb.f0_hz[fb.voiced]) < 160  # a calm male reader
    features = span_features(fj, 0.0, _duration(jfk), words=22)
    assert all(math.isfinite(v) for v in features.values())
    assert features["rate_per_s"] == pytest.approx(2.0, abs=0.01)
    assert 0.3 < features["voiced_fraction"] < 0.8
    assert 0 < features["jitter_local"] < 0.1 and features["hnr_mean_db"] > 3


def test_chunks_concatenate_to_the_whole() -> None:
    audio = load_audio(voice_media("beckett.wav"))
    cut = 160 * 317
    whole, head, tail = frames(audio), frames(audio[:cut]), frames(audio[cut:])
    assert len(head.f0_hz) + len(tail.f0_hz) == len(whole.f0_hz)
    np.testing.assert_allclose(head.loudness_db[:-2], whole.loudness_db[: len(head.f0_hz) - 2])


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> AudioEvents:
    return AudioEvents(make_settings(tmp_path_factory.mktemp("home")))


def _laughter(events: AudioEvents, audio: np.ndarray) -> float:
    columns = [events.class_names().index(name) for name in LAUGHS]
    return float(events.classify(audio).scores[:, columns].max())


@pytest.mark.parametrize("name", ["jfk.wav", "beckett.wav"])
def test_yamnet_hears_speech(events: AudioEvents, name: str) -> None:
    audio = load_audio(voice_media(name))
    found = events.classify(audio)
    assert events.class_names()[int(found.scores.mean(0).argmax())] == "Speech"
    assert _laughter(events, audio) < 0.3


@pytest.mark.parametrize("name", ["laugh-pompous.wav", "laugh-insane.wav"])
def test_yamnet_hears_real_laughter(events: AudioEvents, name: str) -> None:
    assert _laughter(events, load_audio(voice_media(name))) > 0.3


def test_yamnet_patches_tile_the_audio(events: AudioEvents) -> None:
    audio = load_audio(voice_media("jfk.wav"))
    found = events.classify(audio)
    n = len(found.times_s)
    assert found.scores.shape == (n, 521) and found.embeddings.shape == (n, 1024)
    assert found.times_s[0, 0] == 0 and found.times_s[-1, 1] == pytest.approx(_duration(audio))
    np.testing.assert_allclose(np.diff(found.times_s[:, 0]), PATCH_HOP_S)
    assert n == math.ceil((_duration(audio) - 0.975) / PATCH_HOP_S) + 1
    first = events.classify(audio[: int(0.975 * SAMPLE_RATE_HZ)])  # one patch, alone
    np.testing.assert_array_equal(first.scores[0], found.scores[0])
    np.testing.assert_array_equal(first.embeddings[0], found.embeddings[0])
    assert np.std(found.embeddings, axis=0).mean() > 0  # patches differ
