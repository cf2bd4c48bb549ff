"""The streaming socket: every message form of v0-api.md §2, errors that keep the socket open."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from websockets.exceptions import ConnectionClosedOK, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from mien.taxonomy import EMOTIONS_53
from tests.conftest import Server, make_settings, running

LANGUAGE = {"language": {"granularity": "passage"}}


def ws_url(server: Server, query: str = "") -> str:
    return server.url.replace("http://", "ws://") + "/v0/stream/models" + query


def ask(socket: ClientConnection, message: Any) -> dict[str, Any]:
    socket.send(message if isinstance(message, str) else json.dumps(message))
    reply: dict[str, Any] = json.loads(socket.recv(timeout=120))
    return reply


def test_raw_text_base64_and_data_url_give_the_same_answer(server: Server) -> None:
    text = "Thank you for everything, I am grateful."
    encoded = base64.b64encode(text.encode()).decode()
    with connect(ws_url(server)) as socket:
        raw = ask(socket, {"data": text, "raw_text": True, "models": LANGUAGE, "payload_id": "p1"})
        b64 = ask(socket, {"data": encoded, "models": LANGUAGE})
        data_url = ask(socket, {"data": f"data:text/plain;base64,{encoded}", "models": LANGUAGE})
    assert raw["payload_id"] == "p1"
    (prediction,) = raw["language"]["predictions"]
    assert prediction["position"] == {"begin": 0, "end": len(text)}
    assert [e["name"] for e in prediction["emotions"]] == list(EMOTIONS_53)
    assert "time" not in prediction
    assert b64["language"] == raw["language"] == data_url["language"]


def test_errors_answer_the_message_and_keep_the_socket_open(server: Server) -> None:
    with connect(ws_url(server)) as socket:
        assert ask(socket, "{not json")["code"] == "E0100"
        unknown = ask(
            socket,
            {
                "data": "hi",
                "raw_text": True,
                "models": LANGUAGE,
                "session_settings": {},
                "payload_id": "x",
            },
        )
        assert unknown["code"] == "E0101" and "session_settings" in unknown["error"]
        assert unknown["payload_id"] == "x"
        assert ask(socket, {"data": "hi", "raw_text": True})["code"] == "E0101"
        assert (
            ask(
                socket, {"data": "hi", "raw_text": True, "models": LANGUAGE, "stream_window_ms": 20}
            )["code"]
            == "E0101"
        )
        assert ask(socket, {"data": "%%%not base64%%%", "models": LANGUAGE})["code"] == "E0201"
        long_text = ask(socket, {"data": "a" * 10_001, "raw_text": True, "models": LANGUAGE})
        assert long_text["code"] == "E0206"
        face_on_text = ask(socket, {"data": "hello", "raw_text": True, "models": {"face": {}}})
        assert face_on_text["code"] == "E0102"
        assert (
            ask(
                socket, {"data": base64.b64encode(b"\x00\x01garbage").decode(), "models": LANGUAGE}
            )["code"]
            == "E0200"
        )
        ok = ask(socket, {"data": "Still here!", "raw_text": True, "models": LANGUAGE})
        assert len(ok["language"]["predictions"]) == 1


def test_image_without_a_face_is_warned_inside_the_face_key(server: Server) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(buffer, format="PNG")
    with connect(ws_url(server)) as socket:
        reply = ask(
            socket, {"data": base64.b64encode(buffer.getvalue()).decode(), "models": {"face": {}}}
        )
    assert reply["face"] == {"warning": "No faces detected.", "code": "W0103"}


def test_control_messages_are_answered_exactly_once(server: Server) -> None:
    with connect(ws_url(server)) as socket:
        assert ask(socket, {"reset_stream": True}) == {}
        details = ask(socket, {"job_details": True})
        again = ask(socket, {"job_details": True, "reset_stream": True, "payload_id": "c"})
        assert details["job_details"]["job_id"] == again["job_details"]["job_id"]
        assert again["payload_id"] == "c"
        with_data = ask(
            socket, {"data": "ok", "raw_text": True, "models": LANGUAGE, "job_details": True}
        )
        assert with_data["job_details"] == details["job_details"]
        with pytest.raises(TimeoutError):
            socket.recv(timeout=0.5)


def test_socket_needs_a_key_when_keys_are_set(keyed_server: Server) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(keyed_server)).close()
    assert refused.value.response.status_code == 401
    for query in ("?apikey=s3cret", "?apiKey=s3cret"):
        with connect(ws_url(keyed_server, query)) as socket:
            assert ask(socket, {"reset_stream": True}) == {}
    with connect(ws_url(keyed_server), additional_headers={"X-Hume-Api-Key": "s3cret"}) as socket:
        assert ask(socket, {"reset_stream": True}) == {}


def test_idle_socket_is_closed(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", stream_idle_timeout_s=0.5)
    with running(settings) as url:
        with connect(url.replace("http", "ws") + "/v0/stream/models") as socket:
            with pytest.raises(ConnectionClosedOK):
                socket.recv(timeout=10)
            assert socket.close_code == 1000


def _wav(seconds: float, path: Path) -> bytes:
    import av
    import numpy as np

    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=16_000, layout="mono")
        samples = (np.sin(np.arange(int(16_000 * seconds)) / 10) * 8000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="s16", layout="mono")
        frame.rate = 16_000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path.read_bytes()


def _png(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("L", (width, height)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_per_message_limits_come_before_any_model(server: Server, tmp_path: Path) -> None:
    long_audio = base64.b64encode(_wav(6.0, tmp_path / "long.wav")).decode()
    short_audio = base64.b64encode(_wav(1.0, tmp_path / "short.wav")).decode()
    with connect(ws_url(server)) as socket:
        big = ask(socket, {"data": _png(3001, 10), "models": {"face": {}}})
        assert big["code"] == "E0205" and "3,000" in big["error"]
        assert ask(socket, {"data": long_audio, "models": {"prosody": {}}})["code"] == "E0203"
        short = ask(socket, {"data": short_audio, "models": {"prosody": {}}})
        assert short["prosody"]["code"] == "W0105"  # a tone: no speech
        assert ask(socket, {"data": short_audio, "models": {"face": {}}})["code"] == "E0102"
        small = ask(socket, {"data": _png(640, 480), "models": {"face": {}}})
        assert small["face"]["code"] == "W0103"
