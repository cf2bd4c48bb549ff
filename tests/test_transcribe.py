"""Whisper transcription on real recordings and espeak-ng speech, through the pinned weights."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from mien.errors import ChecksumError, ConfigError
from mien.media.audio import SAMPLE_RATE_HZ, iter_audio, load_audio
from mien.models.voice import transcribe, whisper_files
from mien.models.voice.transcribe import V0_LANGUAGES, Transcriber, Transcript
from mien.models.voice.vad import speech_stretches
from tests.conftest import make_settings
from tests.voice_media import TRANSCRIPTS, speak, voice_media, write_wav

ENGLISH = "The children are playing in the garden while their parents cook dinner."
GERMAN = "Guten Morgen, ich möchte heute mit dem Zug nach Berlin fahren."


def words(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower()).split()


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: word-level edit distance over the reference's length."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        diagonal, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (r != h))
    return row[-1] / len(ref)


def text(transcript: Transcript) -> str:
    return " ".join(word.text for word in transcript.words)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Transcriber:
    return Transcriber(make_settings(tmp_path_factory.mktemp("base") / "home"))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Transcriber:
    return Transcriber(make_settings(tmp_path_factory.mktemp("tiny") / "home"), "tiny.en")


@pytest.fixture(scope="module")
def german(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return speak(GERMAN, tmp_path_factory.mktemp("de") / "de.wav", voice="de", words_per_minute=140)


def test_v0_languages_map_to_whisper(base: Transcriber) -> None:
    assert len(V0_LANGUAGES) == 29
    requests = ("en-GB", "pt-BR", "es-419", "hi-Latn", "no", "zh")
    assert [base._whisper_language(code) for code in requests] == [
        "en",
        "pt",
        "es",
        "hi",
        "no",
        "zh",
    ]
    with pytest.raises(ConfigError, match="not one of"):
        base.transcribe(np.zeros(SAMPLE_RATE_HZ, np.float32), language="fi")


@pytest.mark.parametrize("name", ["jfk.wav", "beckett.wav"])
def test_recordings(base: Transcriber, name: str) -> None:
    path = voice_media(name)
    transcript = base.transcribe_file(path)
    assert wer(TRANSCRIPTS[name], text(transcript)) <= 0.1  # measured 0.0 for both
    assert transcript.language == "en"
    assert transcript.language_probability > 0.8
    assert 0.8 < transcript.confidence <= 1
    duration_s = len(load_audio(path)) / SAMPLE_RATE_HZ
    starts = [word.start_s for word in transcript.words]
    assert starts == sorted(starts)
    assert all(0 <= w.start_s < w.end_s <= duration_s + 0.1 for w in transcript.words)
    assert all(0 < w.probability <= 1 and w.text == w.text.strip() for w in transcript.words)


def test_espeak_english(base: Transcriber, tmp_path: Path) -> None:
    transcript = base.transcribe(load_audio(speak(ENGLISH, tmp_path / "en.wav")))
    assert wer(ENGLISH, text(transcript)) <= 0.2  # measured 0.0
    assert transcript.language == "en"


def spy_languages(transcriber: Transcriber, monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The ``language`` of every call Whisper gets from now on."""
    languages: list[str | None] = []
    decode = transcriber._whisper.transcribe

    def spy(audio: np.ndarray, **options: object) -> object:
        languages.append(options["language"])  # type: ignore[arg-type]
        return decode(audio, **options)

    monkeypatch.setattr(transcriber._whisper, "transcribe", spy)
    return languages


def test_german_is_detected_and_forced_language_honoured(
    base: Transcriber, german: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    detected = base.transcribe_file(german)
    assert detected.language == "de"
    assert 0.5 < detected.language_probability < 1  # measured 0.77 (espeak's German)
    assert wer(GERMAN, text(detected)) <= 0.2  # measured 0.0
    languages = spy_languages(base, monkeypatch)
    forced = base.transcribe_file(german, language="de")
    assert languages == ["de"]
    assert (forced.language, forced.language_probability) == ("de", 1.0)
    assert words(text(forced)) == words(text(detected))


@pytest.mark.parametrize(
    "samples",
    [
        np.zeros(3 * SAMPLE_RATE_HZ, np.float32),
        np.random.default_rng(0).normal(0, 0.01, 3 * SAMPLE_RATE_HZ).astype(np.float32),
        0.3 * np.sin(2 * np.pi * 440 * np.arange(SAMPLE_RATE_HZ) / SAMPLE_RATE_HZ),
    ],
    ids=["silence", "noise", "tone"],
)
def test_no_speech_no_words(base: Transcriber, samples: np.ndarray) -> None:
    transcript = base.transcribe(samples)
    assert transcript == Transcript("und", 0.0, (), 0.0)


def test_too_little_speech_is_not_transcribed(base: Transcriber) -> None:
    jfk = load_audio(voice_media("jfk.wav"))
    onset = round(speech_stretches(jfk, transcribe._VAD)[0][0] * SAMPLE_RATE_HZ)
    quarter_second, six_tenths = jfk[onset : onset + 4000], jfk[onset : onset + 9600]
    assert base.transcribe(quarter_second).words == ()  # rather than a hallucination
    assert words(base.transcribe(six_tenths).text) == ["and", "so"]


def test_long_file_in_chunks_matches_whole(
    base: Transcriber, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jfk, beckett = load_audio(voice_media("jfk.wav")), load_audio(voice_media("beckett.wav"))
    pause = np.zeros(2 * SAMPLE_RATE_HZ, np.float32)
    path = write_wav(np.concatenate([jfk, pause, beckett, pause, jfk]), tmp_path / "long.wav")
    chunks = list(transcribe._pause_cut_chunks(iter_audio(path, 15.0), 15.0))
    assert len(chunks) == 3
    assert np.array_equal(np.concatenate([c for _, c in chunks]), load_audio(path))
    for start_s, _ in chunks[1:]:  # cut inside a pause: quiet around the cut
        cut = round(start_s * SAMPLE_RATE_HZ)
        assert np.abs(load_audio(path)[cut - 800 : cut + 800]).max() < 0.03  # speech peaks > 0.3

    whole = base.transcribe_file(path)
    languages = spy_languages(base, monkeypatch)
    chunked = base.transcribe_file(path, chunk_s=15.0)
    assert languages == [None, "en", "en"]  # detected once, on the first chunk
    # Whisper decodes each piece with its own context, so a word may come out differently:
    # measured 0 to 1 word of 58.
    assert wer(text(whole), text(chunked)) <= 0.05
    reference = " ".join(TRANSCRIPTS[name] for name in ("jfk.wav", "beckett.wav", "jfk.wav"))
    assert wer(reference, text(chunked)) <= 0.1
    placed = [  # the same word in both sits at about the same time (measured: within 0.3 s)
        min(abs(a.start_s - b.start_s) for a in whole.words if words(a.text) == words(b.text))
        for b in chunked.words
        if any(words(a.text) == words(b.text) for a in whole.words)
    ]
    assert len(placed) >= 0.95 * len(chunked.words) and max(placed) < 0.4
    assert chunked.language == "en"


def test_tiny_english_only(tiny: Transcriber) -> None:
    transcript = tiny.transcribe_file(voice_media("jfk.wav"))
    assert wer(TRANSCRIPTS["jfk.wav"], text(transcript)) <= 0.1  # measured 0.0
    assert (transcript.language, transcript.language_probability) == ("en", 1.0)
    assert tiny.transcribe(np.zeros(SAMPLE_RATE_HZ, np.float32)).language == "en"
    with pytest.raises(ConfigError, match="English only"):
        tiny.transcribe(np.zeros(SAMPLE_RATE_HZ, np.float32), language="de")


def test_model_folder_is_reused(base: Transcriber, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(Path("unused"))
    folder = settings.models_dir / "whisper-base"
    assert (folder / "model.bin").stat().st_size == 145_217_532
    monkeypatch.setattr(whisper_files, "fetch", lambda *_: pytest.fail("fetched again"))
    assert whisper_files.model_folder("base", settings) == folder


def test_split_model_is_joined_and_checked(tmp_path: Path) -> None:
    parts = [tmp_path / "a", tmp_path / "b"]
    for part, content in zip(parts, [b"first half ", b"second half"], strict=True):
        part.write_bytes(content)
    target = tmp_path / "model.bin"
    with pytest.raises(ChecksumError):
        whisper_files._join(parts, target, hashlib.sha256(b"something else").hexdigest())
    assert sorted(tmp_path.iterdir()) == parts  # nothing half-written is left
    whisper_files._join(parts, target, hashlib.sha256(b"first half second half").hexdigest())
    assert target.read_bytes() == b"first half second half"
