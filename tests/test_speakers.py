"""Speaker embeddings and diarization on real recordings and espeak-ng voices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mien.media.audio import load_audio
from mien.models.voice.speakers import SpeakerEncoder, SpeakerTurn, diarize, speaker_at
from mien.settings import Settings
from tests.voice_media import speak, voice_media

RATE = 16_000

RESEMBLYZER = {
    ("jfk.wav", 3.0): {
        19: 0.172006,
        163: 0.17194,
        178: 0.237226,
        196: 0.171916,
        212: 0.218081,
        255: 0.260319,
    },
    ("beckett.wav", 2.0): {
        62: 0.209076,
        89: 0.183592,
        93: 0.218011,
        112: 0.30754,
        116: 0.163912,
        243: 0.353534,
    },
}
"""The six largest values of Resemblyzer 0.1.4's embedding of one 1.6 s window.

Produced with torch 2.13.0 and librosa 0.11.0: ``wav = load_audio(voice_media(name))``, then
``audio.normalize_volume(wav, -30, increase_only=True)`` and
``VoiceEncoder("cpu").embed_utterance(wav, return_partials=True, rate=2.0)``; the partial that
starts at the given second. Over all 38 partials of both files the numpy encoder matched with
cosine >= 0.9999999 and max abs difference 5.7e-7.
"""

MAN = [
    "The weather was cold this morning, so we stayed inside and read.",
    "Later we walked to the market and bought some fresh bread.",
    "In the evening the children played games by the fire.",
]
WOMAN = [
    "My favourite season is spring, when the flowers open in the park.",
    "I like to ride my bicycle along the river after work.",
    "Tomorrow I will visit my grandmother in the city.",
]


@pytest.fixture(scope="module")
def encoder() -> SpeakerEncoder:
    """One encoder for the module: reading the checkpoint takes a moment."""
    return SpeakerEncoder(Settings())


def _conversation(
    tmp_path: Path, parts: list[tuple[str, str, int]], pause_s: float = 0.8
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Sentences (text, voice, pitch) spoken one after another; the audio and each one's span."""
    silence = np.zeros(round(pause_s * RATE), np.float32)
    pieces: list[np.ndarray] = []
    spans: list[tuple[float, float]] = []
    at = 0
    for k, (text, voice, pitch) in enumerate(parts):
        samples = load_audio(speak(text, tmp_path / f"{k}.wav", voice=voice, pitch=pitch))
        spans.append((at / RATE, (at + len(samples)) / RATE))
        pieces += [samples, silence]
        at += len(samples) + len(silence)
    return np.concatenate(pieces), spans


def test_numpy_encoder_matches_resemblyzer(encoder: SpeakerEncoder) -> None:
    for (name, start), values in RESEMBLYZER.items():
        embedding = encoder.embed_windows(load_audio(voice_media(name)), [start])[0]
        assert embedding.shape == (256,)
        assert np.linalg.norm(embedding) == pytest.approx(1.0, abs=1e-5)
        for index, value in values.items():
            assert embedding[index] == pytest.approx(value, abs=1e-4)


def test_same_speaker_is_closer_than_another(encoder: SpeakerEncoder) -> None:
    jfk = encoder.embed_windows(load_audio(voice_media("jfk.wav")), [3.0, 6.0, 8.5])
    beckett = encoder.embed_windows(load_audio(voice_media("beckett.wav")), [2.0, 5.0, 8.0])
    within = min((jfk @ jfk.T).min(), (beckett @ beckett.T).min())
    between = (jfk @ beckett.T).max()
    assert within > between + 0.05


def test_two_synthetic_voices_are_two_speakers(tmp_path: Path, encoder: SpeakerEncoder) -> None:
    parts = [(t, "en-us+m3", 20) for t in MAN] + [(t, "en+f3", 80) for t in WOMAN]
    audio, spans = _conversation(tmp_path, parts)
    turns = diarize(encoder, audio, spans)
    assert [t.speaker for t in turns] == ["spk_0", "spk_1"]
    change = (spans[2][1] + spans[3][0]) / 2  # the man's last sentence ends, the woman starts
    assert turns[0].start_s == pytest.approx(spans[0][0], abs=0.5)
    assert turns[0].end_s == pytest.approx(spans[2][1], abs=0.5)
    assert turns[1].start_s == pytest.approx(spans[3][0], abs=0.5)
    assert turns[1].end_s == pytest.approx(spans[5][1], abs=0.5)
    assert turns[0].end_s < change < turns[1].start_s
    assert all(t.confidence > 0.8 for t in turns)
    assert speaker_at(turns, *spans[1])[0] == "spk_0"
    assert speaker_at(turns, *spans[4])[0] == "spk_1"


def test_one_voice_with_pauses_is_one_speaker(tmp_path: Path, encoder: SpeakerEncoder) -> None:
    audio, spans = _conversation(tmp_path, [(t, "en", 50) for t in MAN + WOMAN])
    turns = diarize(encoder, audio, spans)
    assert turns == [SpeakerTurn("spk_0", spans[0][0], spans[-1][1], turns[0].confidence)]
    assert 0.5 < turns[0].confidence <= 1.0


@pytest.mark.parametrize(
    ("name", "speech"),
    [
        ("jfk.wav", [(0.0, 11.0)]),  # one stretch, the pauses after each phrase included
        ("jfk.wav", [(0.0, 2.5), (3.0, 3.4), (4.0, 10.5)]),  # a 0.4 s stretch: a short window
        ("beckett.wav", [(0.0, 9.9)]),
    ],
)
def test_one_real_voice_is_one_speaker(
    name: str, speech: list[tuple[float, float]], encoder: SpeakerEncoder
) -> None:
    turns = diarize(encoder, load_audio(voice_media(name)), speech)
    assert [(t.speaker, t.start_s, t.end_s) for t in turns] == [
        ("spk_0", speech[0][0], speech[-1][1])
    ]


def test_jfk_then_beckett_is_two_speakers(encoder: SpeakerEncoder) -> None:
    jfk = load_audio(voice_media("jfk.wav"))
    beckett = load_audio(voice_media("beckett.wav"))
    audio = np.concatenate([jfk, np.zeros(RATE // 2, np.float32), beckett])
    switch = (len(jfk) + RATE // 2) / RATE
    turns = diarize(encoder, audio, [(0.0, len(jfk) / RATE), (switch, len(audio) / RATE)])
    assert [t.speaker for t in turns] == ["spk_0", "spk_1"]
    assert turns[1].start_s == pytest.approx(switch, abs=0.5)
    assert speaker_at(turns, 2.0, 4.0)[0] == "spk_0"
    assert speaker_at(turns, switch + 3.0, switch + 5.0)[0] == "spk_1"


def test_speaker_at_takes_the_larger_overlap(encoder: SpeakerEncoder) -> None:
    turns = [SpeakerTurn("spk_0", 0.0, 4.0, 0.9), SpeakerTurn("spk_1", 4.5, 9.0, 0.7)]
    speaker, confidence = speaker_at(turns, 3.0, 6.0)  # 1.5 s of spk_1, 1 s of spk_0
    assert speaker == "spk_1"
    assert confidence == pytest.approx(0.7)
    speaker, confidence = speaker_at(turns, 1.0, 4.8)
    assert speaker == "spk_0"
    assert confidence == pytest.approx(0.9)
    assert speaker_at(turns, 4.1, 4.2) == ("spk_0", 0.9)  # in the pause: the nearest turn
    assert speaker_at([], 0.0, 1.0) == ("spk_0", 0.0)
    assert diarize(encoder, np.zeros(RATE, np.float32), []) == []  # no speech, no turns
    assert speaker_at(turns, 8.0, 20.0)[0] == "spk_1"


def test_three_speakers_and_a_return(tmp_path: Path, encoder: SpeakerEncoder) -> None:
    jfk = load_audio(voice_media("jfk.wav"))
    woman = load_audio(speak(" ".join(WOMAN), tmp_path / "woman.wav", voice="en+f3", pitch=80))
    parts = [jfk, load_audio(voice_media("beckett.wav")), woman, jfk[: 5 * RATE]]
    gap = np.zeros(RATE // 2, np.float32)
    audio = np.concatenate([x for part in parts for x in (part, gap)])
    bounds = np.cumsum([0] + [len(part) + len(gap) for part in parts]) / RATE
    speech = [(a, a + len(part) / RATE) for a, part in zip(bounds, parts, strict=False)]
    speech.append((1.0, 2.0))  # overlaps the first stretch: joined into it
    turns = diarize(encoder, audio, speech)
    assert [t.speaker for t in turns] == ["spk_0", "spk_1", "spk_2", "spk_0"]
    edges = [x for t in turns for x in (t.start_s, t.end_s)]
    assert edges == pytest.approx([x for stretch in speech[:4] for x in stretch])
