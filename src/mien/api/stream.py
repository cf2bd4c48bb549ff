"""The streaming socket ``/v0/stream/models`` (v0-api.md §2).

Strictly request/response, as the SDKs expect: every client message, control-only ones included,
gets exactly one JSON answer, and an error answers the message without closing the socket.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import enum
import json
import logging
import re
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from mien.api.auth import key_from, key_is_valid
from mien.api.errors import describe_errors
from mien.errors import MienError
from mien.media import MediaItem, MediaKind, parse_facemesh
from mien.media.payload import PayloadInfo, inspect_payload
from mien.models.registry import MODEL_KINDS, language_model, load_model
from mien.schemas import (
    EmotionScore,
    Face,
    JobDetails,
    Language,
    LanguagePrediction,
    StreamBoundingBox,
    StreamBurstPrediction,
    StreamError,
    StreamFace,
    StreamFacemeshPrediction,
    StreamFacePrediction,
    StreamLanguage,
    StreamLanguagePrediction,
    StreamModelBlock,
    StreamPayload,
    StreamPredictions,
    StreamProsodyPrediction,
    TimeInterval,
    Transcription,
)
from mien.settings import Settings
from mien.taxonomy import EMOTIONS_48

if TYPE_CHECKING:
    from mien.models.face.model import FaceModel
    from mien.models.face.tracking import FaceTracker
    from mien.models.facemesh import FacemeshModel
    from mien.models.voice.analysis import SpeechAnalysis

__all__ = ["MAX_TEXT_CHARS", "StreamSession", "router"]

logger = logging.getLogger(__name__)
router = APIRouter(tags=["stream"])

MAX_TEXT_CHARS = 10_000
"""v0's per-message text limit."""
MAX_IMAGE_SIDE_PX = 3_000
MAX_AUDIO_MS = 5_000
DEFAULT_WINDOW_MS = 5_000
"""Audio context prepended to a payload when the message sets no ``stream_window_ms``."""
MAX_WINDOW_MS = 10_000
MAX_FACEMESH_FACES = 100
"""Faces per facemesh message: the legacy SDK's ``_FACE_LIMIT`` (the docs say 10)."""

_DATA_URL = re.compile(r"^data:[^,]*?;base64,", re.IGNORECASE)


class Code(enum.StrEnum):
    """v0 streaming error and warning codes."""

    NOT_JSON = "E0100"
    BAD_PAYLOAD = "E0101"
    INCOMPATIBLE = "E0102"
    UNPARSEABLE_MEDIA = "E0200"
    BAD_BASE64 = "E0201"
    NO_AUDIO = "E0202"
    AUDIO_TOO_LONG = "E0203"
    VIDEO_TOO_LONG = "E0204"
    IMAGE_TOO_LARGE = "E0205"
    TEXT_TOO_LONG = "E0206"  # v0's own code past E0205 is unverified; mien uses E0206
    TOO_MANY_FACES = "E0207"  # likewise unverified: too many faces in a facemesh message
    NO_BURSTS = "W0101"
    NO_FACEMESH = "W0102"
    NO_FACES = "W0103"
    NO_SPEECH = "W0105"  # inferred, unverified: no speech for prosody or language
    INTERNAL = "E0500"  # mien's: a bug or a native failure while answering


class StreamFault(Exception):
    """A message that earns an error answer."""

    def __init__(self, code: Code, message: str) -> None:
        """Keep the code with the message."""
        super().__init__(message)
        self.code = code


class StreamSession:
    """State of one socket: its job id and (for audio models) the sliding window."""

    def __init__(self, settings: Settings) -> None:
        """A fresh session with its own job id."""
        self.settings = settings
        self.job_id = str(uuid.uuid4())
        self._faces: FaceTracker | None = None  # ids kept for the whole session, as in v0
        self._frames_seen = 0
        self._audio = np.zeros(0, dtype=np.float32)
        """The latest audio, up to MAX_WINDOW_MS: context for the next payload."""

    def reset(self) -> None:
        """Drop sliding-window context (face identities survive, as in v0)."""
        self._audio = np.zeros(0, dtype=np.float32)

    async def answer(self, raw: str | bytes) -> dict[str, Any]:
        """The one answer to one client message, as wire JSON."""
        payload_id: str | None = None
        job_details = False
        answer: StreamPredictions | StreamError
        try:
            message = _parse_json(raw)
            payload_id = _str_or_none(message.get("payload_id"))
            job_details = message.get("job_details") is True
            answer = await self._run(_validate(message))
        except StreamFault as fault:
            answer = StreamError(error=str(fault), code=fault.code.value)
        except MienError as exc:
            answer = StreamError(error=str(exc), code=Code.INCOMPATIBLE.value)
        except Exception as exc:  # the socket must survive a failing model
            logger.exception("stream message failed")
            answer = StreamError(error=f"internal error: {exc}", code=Code.INTERNAL.value)
        answer.payload_id = payload_id
        if job_details:
            answer.job_details = JobDetails(job_id=self.job_id)
        return answer.model_dump(mode="json", exclude_none=True)

    async def _run(self, payload: StreamPayload) -> StreamPredictions:
        if payload.reset_stream:
            self.reset()
        if payload.data is None:
            if payload.models is not None and payload.models.requested():
                raise StreamFault(Code.BAD_PAYLOAD, "field 'data' is required to run models")
            return StreamPredictions()  # control-only message: reset and/or job details
        if payload.models is None or not payload.models.requested():
            raise StreamFault(Code.BAD_PAYLOAD, "field 'models' must name at least one model")
        requested = payload.models.requested()
        if "facemesh" in requested:
            return await self._facemesh(payload.data, requested)
        if payload.raw_text:
            return await self._language_only(payload, payload.data)
        data = _decode_base64(payload.data)
        info = await asyncio.to_thread(_inspect, data)
        _check_limits(info, requested)
        if info.kind == "text":
            return await self._language_only(payload, _decode_text(data))
        if info.kind != "image" and info.kind != "video" and info.kind != "audio":
            raise StreamFault(Code.UNPARSEABLE_MEDIA, f"{info.kind} payloads cannot be streamed")
        kind: MediaKind = info.kind
        readers = [name for name in requested if kind in MODEL_KINDS[name]]
        if not readers:
            raise StreamFault(
                Code.INCOMPATIBLE, f"none of {', '.join(requested)} reads {kind} payloads"
            )
        answer = StreamPredictions()
        with tempfile.NamedTemporaryFile(prefix="stream-") as spill:
            spill.write(data)
            spill.flush()
            item = MediaItem("payload", kind, Path(spill.name), "")
            if payload.models.face is not None and "face" in readers:
                answer.face = await asyncio.to_thread(
                    self._predict_faces, item, payload.models.face
                )
            voice = [name for name in readers if name in ("prosody", "burst", "language")]
            if voice and (kind == "audio" or info.has_audio):
                blocks = await asyncio.to_thread(self._predict_voice, item, payload, voice)
                for name, block in blocks.items():
                    setattr(answer, name, block)
        return answer

    def _predict_voice(
        self, item: MediaItem, payload: StreamPayload, names: list[str]
    ) -> dict[str, StreamModelBlock]:
        """Prosody, bursts and language of one audio payload, after the window's context."""
        from mien.media.audio import SAMPLE_RATE_HZ, load_audio
        from mien.models.registry import speech_analyzer
        from mien.models.voice.burst import find_bursts
        from mien.models.voice.prosody import score_spans
        from mien.models.voice.segments import spans

        audio = load_audio(item.path)
        window_ms = payload.stream_window_ms or DEFAULT_WINDOW_MS
        context = self._audio[len(self._audio) - int(window_ms / 1000 * SAMPLE_RATE_HZ) :]
        offset_s = len(context) / SAMPLE_RATE_HZ
        joined = np.concatenate([context, audio])
        self._audio = joined[-int(MAX_WINDOW_MS / 1000 * SAMPLE_RATE_HZ) :]
        analyzer = speech_analyzer(self.settings)
        transcription = Transcription() if "language" in names else None
        analysis = analyzer.analyze_audio(joined, transcription)
        classes = analyzer.events.class_names()
        blocks: dict[str, StreamModelBlock] = {}
        if "prosody" in names:
            found = [s for s in spans(analysis, "utterance") if s.end_s > offset_s]
            if found:
                scores = score_spans(analysis, found, classes)
                blocks["prosody"] = StreamModelBlock(
                    predictions=[
                        StreamProsodyPrediction(
                            time=_shifted(s.start_s, s.end_s, offset_s), emotions=_emotions(row)
                        )
                        for s, row in zip(found, scores, strict=True)
                    ]
                )
            else:
                blocks["prosody"] = StreamModelBlock(
                    warning="No speech detected.", code=Code.NO_SPEECH.value
                )
        if "burst" in names:
            bursts = [b for b in find_bursts(analysis, classes) if b.end_s > offset_s]
            blocks["burst"] = (
                StreamModelBlock(
                    predictions=[
                        StreamBurstPrediction(
                            time=_shifted(b.start_s, b.end_s, offset_s),
                            emotions=_emotions(b.emotions),
                        )
                        for b in bursts
                    ]
                )
                if bursts
                else StreamModelBlock(
                    warning="No vocal bursts detected.", code=Code.NO_BURSTS.value
                )
            )
        if "language" in names and payload.models is not None and payload.models.language:
            blocks["language"] = self._spoken_language(analysis, payload.models.language, offset_s)
        return blocks

    def _spoken_language(
        self, analysis: SpeechAnalysis, config: StreamLanguage, offset_s: float
    ) -> StreamModelBlock:
        from mien.models.voice.spoken import language_block

        batch_config = Language.model_validate(config.model_dump())
        block = language_block(
            language_model(self.settings), analysis, batch_config, identify=False
        )
        predictions = [
            _streamed(p)
            for group in block.grouped_predictions
            for p in group.predictions
            if isinstance(p, LanguagePrediction) and (p.time is None or p.time.end > offset_s)
        ]
        if not predictions:
            return StreamModelBlock(warning="No speech detected.", code=Code.NO_SPEECH.value)
        return StreamModelBlock(predictions=predictions)

    def _predict_faces(self, item: MediaItem, config: StreamFace) -> StreamModelBlock:
        model: FaceModel = load_model("face", self.settings)  # type: ignore[assignment]
        from mien.models.face.model import face_scores, frames_of
        from mien.models.face.tracking import FaceTracker

        batch_config = Face.model_validate(config.model_dump())
        predictions = []
        for frame, time_s, image in frames_of(item, config.fps_pred):
            faces = model.read(image, batch_config)
            ids = ["unknown"] * len(faces)
            if config.identify_faces:
                self._faces = self._faces or FaceTracker(model.embedder)
                ids = self._faces.assign(image, float(self._frames_seen), faces)
            self._frames_seen += 1
            for face_id, face in zip(ids, faces, strict=True):
                emotions, facs, descriptions = face_scores(model.analyzer, face, batch_config)
                x, y, w, h = face.box
                predictions.append(
                    StreamFacePrediction(
                        frame=frame,
                        time=time_s,
                        bbox=StreamBoundingBox(x=x, y=y, w=w, h=h),
                        prob=face.prob,
                        face_id=face_id,
                        emotions=emotions,
                        facs=facs,
                        descriptions=descriptions,
                    )
                )
        if not predictions:
            return StreamModelBlock(warning="No faces detected.", code=Code.NO_FACES.value)
        return StreamModelBlock(predictions=predictions)

    async def _facemesh(self, data: str, requested: list[str]) -> StreamPredictions:
        """Landmarks as JSON, or base64 of it, whatever ``raw_text`` says (the SDKs disagree)."""
        if requested != ["facemesh"]:
            others = ", ".join(name for name in requested if name != "facemesh")
            raise StreamFault(
                Code.INCOMPATIBLE, f"a facemesh payload is read by the facemesh model, not {others}"
            )
        landmarks = _facemesh_landmarks(data)
        if len(landmarks) > MAX_FACEMESH_FACES:
            raise StreamFault(
                Code.TOO_MANY_FACES,
                f"Too many faces: {len(landmarks)}. The limit is {MAX_FACEMESH_FACES} per message.",
            )
        if len(landmarks) == 0:
            block = StreamModelBlock(warning="No facemeshes detected.", code=Code.NO_FACEMESH.value)
            return StreamPredictions(facemesh=block)
        model: FacemeshModel = load_model("facemesh", self.settings)  # type: ignore[assignment]
        results = await asyncio.to_thread(model.predict_landmarks, landmarks)
        predictions = [StreamFacemeshPrediction(emotions=r.emotions) for r in results]
        return StreamPredictions(facemesh=StreamModelBlock(predictions=predictions))

    async def _language_only(self, payload: StreamPayload, text: str) -> StreamPredictions:
        assert payload.models is not None
        config = payload.models.language
        if config is None:
            others = ", ".join(payload.models.requested())
            raise StreamFault(
                Code.INCOMPATIBLE, f"text is read by the language model, not {others}"
            )
        if len(text) > MAX_TEXT_CHARS:
            raise StreamFault(
                Code.TEXT_TOO_LONG,
                f"Your text was too long. The limit is {MAX_TEXT_CHARS:,} characters.",
            )
        predictions = await asyncio.to_thread(self._predict_language, text, config)
        return StreamPredictions(language=StreamModelBlock(predictions=predictions))

    def _predict_language(
        self, text: str, config: StreamLanguage
    ) -> list[StreamLanguagePrediction]:
        results = language_model(self.settings).predict(
            text,
            granularity=config.granularity,
            sentiment=config.sentiment is not None,
            toxicity=config.toxicity is not None,
        )
        return [_streamed(p) for p in results]


def _parse_json(raw: str | bytes) -> dict[str, Any]:
    try:
        message = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StreamFault(Code.NOT_JSON, f"Request not valid JSON: {exc}") from exc
    if not isinstance(message, dict):
        raise StreamFault(Code.NOT_JSON, "Request must be a JSON object")
    return message


def _validate(message: dict[str, Any]) -> StreamPayload:
    try:
        return StreamPayload.model_validate(message)
    except ValidationError as exc:
        detail = describe_errors(exc.errors(), whole="payload")
        raise StreamFault(Code.BAD_PAYLOAD, f"Invalid payload: {detail}") from exc


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _decode_base64(data: str) -> bytes:
    """Base64 with or without a ``data:<mime>;base64,`` prefix (the TS SDK sends data URLs)."""
    body = _DATA_URL.sub("", data.strip(), count=1)
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise StreamFault(
            Code.BAD_BASE64, "data is not valid base64; set raw_text to true to send plain text"
        ) from exc


def _streamed(prediction: LanguagePrediction) -> StreamLanguagePrediction:
    """A language prediction as the socket sends it: no time, confidence or speaker."""
    return StreamLanguagePrediction.model_construct(
        text=prediction.text,
        position=prediction.position,
        emotions=prediction.emotions,
        sentiment=prediction.sentiment,
        toxicity=prediction.toxicity,
    )


def _shifted(start_s: float, end_s: float, offset_s: float) -> TimeInterval:
    """Times relative to the payload, not to the context prepended to it."""
    return TimeInterval(begin=max(start_s - offset_s, 0.0), end=max(end_s - offset_s, 0.0))


def _emotions(row: np.ndarray) -> list[EmotionScore]:
    return [EmotionScore(name=n, score=float(v)) for n, v in zip(EMOTIONS_48, row, strict=True)]


def _facemesh_landmarks(data: str) -> np.ndarray:
    """``(n, 478, 3)`` from JSON text or from base64 of it (with or without a data URL)."""
    text = data.strip()
    if not text.startswith("["):
        text = _decode_text(_decode_base64(text))
    try:
        return parse_facemesh(text)
    except MienError as exc:
        raise StreamFault(Code.UNPARSEABLE_MEDIA, f"facemesh could not be parsed: {exc}") from exc


def _decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StreamFault(Code.UNPARSEABLE_MEDIA, "text is not valid UTF-8") from exc


def _inspect(data: bytes) -> PayloadInfo:
    try:
        return inspect_payload(data)
    except MienError as exc:
        raise StreamFault(Code.UNPARSEABLE_MEDIA, f"media could not be parsed: {exc}") from exc


def _check_limits(info: PayloadInfo, requested: list[str]) -> None:
    """v0's per-message limits (v0-api.md §2.5), checked before any model runs."""
    if info.kind == "archive":
        raise StreamFault(Code.UNPARSEABLE_MEDIA, "archives cannot be streamed; send one file")
    if info.kind == "image" and max(info.width_px, info.height_px) > MAX_IMAGE_SIDE_PX:
        raise StreamFault(
            Code.IMAGE_TOO_LARGE,
            f"Your image file was too large. The limit is {MAX_IMAGE_SIDE_PX:,} x "
            f"{MAX_IMAGE_SIDE_PX:,} pixels.",
        )
    if info.kind == "audio" and info.duration_ms > MAX_AUDIO_MS:
        raise StreamFault(
            Code.AUDIO_TOO_LONG,
            f"Your audio file was too long. The limit is {MAX_AUDIO_MS} milliseconds.",
        )
    if info.kind == "video" and info.duration_ms > MAX_AUDIO_MS:
        raise StreamFault(
            Code.VIDEO_TOO_LONG,
            f"Your video file was too long. The limit is {MAX_AUDIO_MS} milliseconds; pass "
            "individual frames of video as images.",
        )
    audio_models = {"prosody", "burst"} & set(requested)
    if audio_models and info.kind in ("audio", "video") and not info.has_audio:
        raise StreamFault(
            Code.NO_AUDIO, f"No audio signal could be found for the {', '.join(audio_models)} model"
        )


@router.websocket("/v0/stream/models")
async def stream_models(websocket: WebSocket) -> None:
    """Answer each message in turn until the client leaves or stays idle too long."""
    settings: Settings = websocket.app.state.settings
    presented = key_from(websocket.headers, websocket.query_params, allow_query=True)
    if not key_is_valid(presented, settings.api_keys):
        await _refuse(websocket)
        return
    await websocket.accept()
    session = StreamSession(settings)
    try:
        while True:
            try:
                event = await asyncio.wait_for(
                    websocket.receive(), timeout=settings.stream_idle_timeout_s
                )
            except TimeoutError:
                await websocket.close(code=1000, reason="idle timeout")
                return
            if event["type"] == "websocket.disconnect":
                return
            raw: str | bytes = event.get("text") or event.get("bytes") or b""
            await websocket.send_json(await session.answer(raw))
    except WebSocketDisconnect:
        return


async def _refuse(websocket: WebSocket) -> None:
    """401 with a JSON body where the server can send one, else close with policy violation."""
    body = {"message": "missing or invalid API key: send X-Hume-Api-Key or ?apikey="}
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse(body, status_code=401))
    else:
        await websocket.close(code=1008, reason=body["message"])
