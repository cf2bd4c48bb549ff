"""The voice models end to end: prosody, bursts, language and NER over speech, batch and stream."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from websockets.sync.client import connect

from mien.media import MediaItem
from mien.media.audio import SAMPLE_RATE_HZ, load_audio
from mien.models.registry import load_model
from mien.schemas import InferenceRequest, ModelBlock
from mien.settings import Settings
from mien.taxonomy import BURST_DESCRIPTIONS, EMOTIONS_48, EMOTIONS_53
from tests.conftest import Server, make_settings
from tests.face_media import face_media
from tests.helpers import top, upload_job
from tests.test_stream import ask, ws_url
from tests.voice_media import speak, voice_media, write_wav

SENTENCE = "I have been waiting here for an hour. The train is late again today."


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("voice")
    english = speak(SENTENCE, folder / "english.wav")
    german = speak(
        "Guten Morgen. Heute scheint die Sonne und wir gehen zusammen in den Park.",
        folder / "german.wav",
        voice="de",
    )
    low = speak(
        "We have been standing on this platform since seven. Nobody told us anything "
        "about the delay.",
        folder / "low.wav",
        voice="en-us+m3",
        pitch=20,
    )
    high = speak(
        "Oh I am so sorry to hear that. The weather has been terrible all week. "
        "Maybe the next train will come soon.",
        folder / "high.wav",
        voice="en+f3",
        pitch=80,
    )
    dialogue = _join([low, high], folder / "dialogue.wav", pause_s=0.8)
    return {"english": english, "german": german, "dialogue": dialogue}


def _join(paths: list[Path], target: Path, *, pause_s: float) -> Path:
    pause = np.zeros(int(pause_s * SAMPLE_RATE_HZ), np.float32)
    parts: list[np.ndarray] = []
    for path in paths:
        parts += [load_audio(path), pause]
    write_wav(np.concatenate(parts), target)
    return target


def predict(settings: Settings, model: str, path: Path, body: dict[str, Any]) -> ModelBlock:
    request = InferenceRequest.model_validate(body)
    return load_model(model, settings).predict_file(
        MediaItem(path.name, "audio", path, ""), request
    )


def predictions(block: ModelBlock) -> list[dict[str, Any]]:
    return [p.model_dump() for g in block.grouped_predictions for p in g.predictions]


def test_word_prosody_has_the_words_and_times_inside_them(
    settings: Settings, media: dict[str, Path]
) -> None:
    body = {"models": {"prosody": {"granularity": "word"}}}
    block = predict(settings, "prosody", media["english"], body)
    assert block.metadata is not None and block.metadata.detected_language == "en"
    words = predictions(block)
    spoken = [w["text"].strip(".,").lower() for w in words]
    assert spoken[:4] == ["i", "have", "been", "waiting"]
    duration = len(load_audio(media["english"])) / SAMPLE_RATE_HZ
    for word in words:
        assert 0 <= word["time"]["begin"] < word["time"]["end"] <= duration + 0.05
        assert [e["name"] for e in word["emotions"]] == list(EMOTIONS_48)
        assert all(0 < e["score"] < 1 for e in word["emotions"])
    starts = [w["time"]["begin"] for w in words]
    assert starts == sorted(starts)


def test_sentence_and_window_granularities(settings: Settings, media: dict[str, Path]) -> None:
    sentences = predictions(
        predict(
            settings,
            "prosody",
            media["english"],
            {"models": {"prosody": {"granularity": "sentence"}}},
        )
    )
    assert len(sentences) == 2 and sentences[0]["text"].startswith("I have been waiting")
    body = {"models": {"prosody": {"window": {"length": 2.0, "step": 1.0}}}}
    windows = predictions(predict(settings, "prosody", media["english"], body))
    assert windows[0]["time"] == {"begin": 0.0, "end": 2.0} and windows[0]["text"] is None
    assert windows[1]["time"]["begin"] == 1.0


def test_german_is_detected_as_german(settings: Settings, media: dict[str, Path]) -> None:
    block = predict(settings, "prosody", media["german"], {"models": {"prosody": {}}})
    assert block.metadata is not None and block.metadata.detected_language == "de"


def test_two_voices_are_two_speakers_with_their_own_turns(
    settings: Settings, media: dict[str, Path]
) -> None:
    body = {
        "models": {"prosody": {"granularity": "conversational_turn", "identify_speakers": True}}
    }
    block = predict(settings, "prosody", media["dialogue"], body)
    groups = {g.id: g.predictions for g in block.grouped_predictions}
    assert set(groups) == {"spk_0", "spk_1"}
    first, second = groups["spk_0"][0], groups["spk_1"][0]
    assert first.text is not None and "platform" in first.text  # type: ignore[union-attr]
    assert second.text is not None and "sorry" in second.text  # type: ignore[union-attr]
    assert first.speaker_confidence is not None and first.speaker_confidence > 0.5  # type: ignore[union-attr]


def test_a_laugh_is_a_burst_and_plain_speech_is_not(settings: Settings) -> None:
    body = {"models": {"burst": {}}}
    laughs = predictions(predict(settings, "burst", voice_media("laugh-pompous.wav"), body))
    assert laughs
    for burst in laughs:
        assert [d["name"] for d in burst["descriptions"]] == list(BURST_DESCRIPTIONS)
        assert set(top(burst["descriptions"], 3)) & {"Laugh", "Giggle", "Chuckle", "Cackle"}
        assert top(burst["emotions"], 1) == ["Amusement"]
    for speech in ("jfk.wav", "beckett.wav"):
        assert predict(settings, "burst", voice_media(speech), body).grouped_predictions == []


def test_language_over_speech_has_times_and_confidence(
    settings: Settings, media: dict[str, Path]
) -> None:
    body = {"models": {"language": {"granularity": "sentence", "sentiment": {}}}}
    block = predict(settings, "language", media["english"], body)
    [first, second] = predictions(block)
    assert first["text"].startswith("I have been waiting")
    assert [e["name"] for e in first["emotions"]] == list(EMOTIONS_53)
    assert 0 <= first["time"]["begin"] < first["time"]["end"] <= second["time"]["begin"]
    assert 0.5 < first["confidence"] <= 1 and first["sentiment"] is not None
    words = predictions(
        predict(settings, "language", media["english"], {"models": {"language": {}}})
    )
    assert words[0]["text"] == "I" and words[0]["time"]["end"] <= words[1]["time"]["begin"] + 0.05


def test_named_entities_in_speech_have_times(settings: Settings, tmp_path: Path) -> None:
    wav = speak("Yesterday Barack Obama visited Paris with his family.", tmp_path / "ner.wav")
    block = predict(settings, "ner", wav, {"models": {"ner": {}}})
    assert block.metadata is not None and block.metadata.detected_language == "en"
    mentions = {p["entity"]: p for p in predictions(block)}
    assert {"Barack Obama", "Paris"} <= set(mentions)
    obama, paris = mentions["Barack Obama"], mentions["Paris"]
    assert 0 < obama["time"]["begin"] < obama["time"]["end"] <= paris["time"]["begin"]
    assert 0 < obama["entity_confidence"] <= 1 and obama["confidence"] > 0.5
    assert [e["name"] for e in paris["emotions"]] == list(EMOTIONS_53)


def test_without_transcription_prosody_reads_utterances_and_language_refuses(
    settings: Settings, media: dict[str, Path]
) -> None:
    body: dict[str, Any] = {"models": {"prosody": {}, "language": {}}, "transcription": None}
    block = predict(settings, "prosody", media["english"], body)
    assert block.metadata is None
    utterances = predictions(block)
    assert utterances and all(u["text"] is None for u in utterances)
    with pytest.raises(Exception, match="transcription"):
        predict(settings, "language", media["english"], body)


def test_a_video_runs_face_and_voice_together(server: Server, tmp_path: Path) -> None:
    video = _talking_face(tmp_path / "talk.mp4", speak(SENTENCE, tmp_path / "talk.wav"))
    body = {"models": {"face": {}, "prosody": {}, "burst": {}, "language": {}}}
    _, predictions = upload_job(server.url, video, "talk.mp4", body)
    result = predictions[0]["results"]
    assert result["errors"] == []
    models = result["predictions"][0]["models"]
    assert set(models) == {"face", "prosody", "burst", "language"}
    assert models["face"]["grouped_predictions"][0]["predictions"]
    assert "waiting" in models["prosody"]["grouped_predictions"][0]["predictions"][0]["text"]


def _talking_face(target: Path, wav: Path) -> Path:
    """An MP4 of a still smiling face for as long as the speech, with the speech as its sound."""
    image = face_media("happy.jpg")
    samples = load_audio(wav)
    frame = av.VideoFrame.from_ndarray(np.asarray(_rgb(image)), format="rgb24")
    with av.open(str(target), "w") as container:
        video = container.add_stream("mpeg4", rate=5)
        video.width, video.height, video.pix_fmt = 512, 512, "yuv420p"
        audio = container.add_stream("aac", rate=SAMPLE_RATE_HZ)
        for _ in range(int(len(samples) / SAMPLE_RATE_HZ * 5) + 1):
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")[None, :]
        audio_frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        audio_frame.sample_rate = SAMPLE_RATE_HZ
        for packet in audio.encode(audio_frame):
            container.mux(packet)
        container.mux(audio.encode(None))
    return target


def _rgb(path: Path) -> Any:
    from PIL import Image

    with Image.open(path) as image:
        return image.convert("RGB").copy()


def test_streamed_audio_gets_prosody_and_a_burst_warning(
    server: Server, media: dict[str, Path], tmp_path: Path
) -> None:
    clip = base64.b64encode(media["english"].read_bytes()).decode()
    laugh = load_audio(voice_media("laugh-pompous.wav"))[: 4 * SAMPLE_RATE_HZ]
    write_wav(laugh, tmp_path / "laugh.wav")
    laughing = base64.b64encode((tmp_path / "laugh.wav").read_bytes()).decode()
    with connect(ws_url(server)) as socket:
        reply = ask(socket, {"data": clip, "models": {"prosody": {}, "burst": {}}})
        prosody = reply["prosody"]["predictions"]
        assert prosody and all(set(p) == {"time", "emotions"} for p in prosody)
        assert reply["burst"] == {"warning": "No vocal bursts detected.", "code": "W0101"}
        spoken = ask(socket, {"data": clip, "models": {"language": {"granularity": "sentence"}}})
        assert spoken["language"]["predictions"][0]["text"].startswith("I have been waiting")
        ask(socket, {"reset_stream": True})
        laughed = ask(socket, {"data": laughing, "models": {"burst": {}}})
        [burst] = laughed["burst"]["predictions"][:1]
        assert top(burst["emotions"], 1) == ["Amusement"]
        assert 0 <= burst["time"]["begin"] < burst["time"]["end"] <= 4.05


def test_stream_window_ms_is_bounded(server: Server, media: dict[str, Path]) -> None:
    clip = base64.b64encode(media["english"].read_bytes()).decode()
    with connect(ws_url(server)) as socket:
        bad = ask(socket, {"data": clip, "models": {"prosody": {}}, "stream_window_ms": 20000})
        assert bad["code"] == "E0101"


def test_a_streamed_video_gets_face_and_voice_in_one_answer(server: Server, tmp_path: Path) -> None:
    speech = speak("Hello there, how are you today?", tmp_path / "hello.wav")
    video = _talking_face(tmp_path / "hello.mp4", speech)
    data = base64.b64encode(video.read_bytes()).decode()
    with connect(ws_url(server)) as socket:
        reply = ask(socket, {"data": data, "models": {"face": {"fps_pred": 1}, "prosody": {}}})
    faces = reply["face"]["predictions"]
    assert faces and {f["frame"] for f in faces} >= {0, 5}  # 5 fps video, one frame a second
    assert reply["prosody"]["predictions"][0]["time"]["end"] <= 3.0


def test_a_silent_video_runs_the_face_model_only(server: Server, tmp_path: Path) -> None:
    path = tmp_path / "silent.mp4"
    frame = av.VideoFrame.from_ndarray(np.asarray(_rgb(face_media("happy.jpg"))), format="rgb24")
    with av.open(str(path), "w") as container:
        video = container.add_stream("mpeg4", rate=5)
        video.width, video.height, video.pix_fmt = 512, 512, "yuv420p"
        for _ in range(5):
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
    _, everything = upload_job(server.url, path, "silent.mp4", {})
    result = everything[0]["results"]
    assert result["errors"] == []
    [prediction] = result["predictions"]
    assert prediction["file_type"] == "video_no_audio" and set(prediction["models"]) == {"face"}
    _, voice_only = upload_job(server.url, path, "silent.mp4", {"models": {"prosody": {}}})
    [error] = voice_only[0]["results"]["errors"]
    assert "videos without sound" in error["message"]
