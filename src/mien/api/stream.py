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
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from mien.api.auth import key_from, key_is_valid
from mien.errors import MienError
from mien.models import load_model
from mien.models.registry import LanguageFiles
from mien.schemas import StreamLanguage, StreamPayload
from mien.settings import Settings

__all__ = ["MAX_TEXT_CHARS", "StreamSession", "router"]

logger = logging.getLogger(__name__)
router = APIRouter(tags=["stream"])

MAX_TEXT_CHARS = 10_000
"""v0's per-message text limit."""
MAX_IMAGE_SIDE_PX = 3_000
MAX_AUDIO_MS = 5_000

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

    def reset(self) -> None:
        """Drop sliding-window context (face identities survive, as in v0)."""

    async def answer(self, raw: str | bytes) -> dict[str, Any]:
        """The one answer to one client message."""
        payload_id: str | None = None
        job_details = False
        try:
            message = _parse_json(raw)
            payload_id = _str_or_none(message.get("payload_id"))
            job_details = message.get("job_details") is True
            payload = _validate(message)
            answer = await self._run(payload)
        except StreamFault as fault:
            answer = {"error": str(fault), "code": fault.code.value}
        except MienError as exc:
            answer = {"error": str(exc), "code": Code.INCOMPATIBLE.value}
        except Exception as exc:  # the socket must survive a failing model
            logger.exception("stream message failed")
            answer = {"error": f"internal error: {exc}", "code": Code.INTERNAL.value}
        if payload_id is not None:
            answer["payload_id"] = payload_id
        if job_details:
            answer["job_details"] = {"job_id": self.job_id}
        return answer

    async def _run(self, payload: StreamPayload) -> dict[str, Any]:
        if payload.reset_stream:
            self.reset()
        if payload.data is None:
            if payload.models is not None and payload.models.requested():
                raise StreamFault(Code.BAD_PAYLOAD, "field 'data' is required to run models")
            return {}  # control-only message: reset and/or job details
        if payload.models is None or not payload.models.requested():
            raise StreamFault(Code.BAD_PAYLOAD, "field 'models' must name at least one model")
        requested = payload.models.requested()
        if "language" not in requested:
            raise StreamFault(
                Code.INCOMPATIBLE,
                f"the {', '.join(requested)} model(s) are not available in this version of mien "
                "yet; only the language model is",
            )
        if payload.raw_text:
            return await self._language_only(payload, payload.data)
        data = _decode_base64(payload.data)
        kind = _sniff(data)
        if kind == "text":
            return await self._language_only(payload, _decode_text(data))
        raise StreamFault(
            Code.INCOMPATIBLE,
            f"the language model cannot read {kind} input until transcription is available",
        )

    async def _language_only(self, payload: StreamPayload, text: str) -> dict[str, Any]:
        assert payload.models is not None
        config = payload.models.language
        if config is None:
            others = ", ".join(payload.models.requested())
            raise StreamFault(
                Code.INCOMPATIBLE, f"text input needs the language model, not {others}"
            )
        if len(text) > MAX_TEXT_CHARS:
            raise StreamFault(
                Code.TEXT_TOO_LONG,
                f"Your text was too long. The limit is {MAX_TEXT_CHARS:,} characters.",
            )
        predictions = await asyncio.to_thread(self._predict_language, text, config)
        return {"language": {"predictions": predictions}}

    def _predict_language(self, text: str, config: StreamLanguage) -> list[dict[str, Any]]:
        model = load_model("language", self.settings)
        assert isinstance(model, LanguageFiles)
        results = model.model.predict(
            text,
            granularity=config.granularity,
            sentiment=config.sentiment is not None,
            toxicity=config.toxicity is not None,
        )
        keep = {"text", "position", "emotions", "sentiment", "toxicity"}
        return [p.model_dump(mode="json", include=keep, exclude_none=True) for p in results]


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
        detail = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'payload'}: {err['msg']}"
            for err in exc.errors()
        )
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


def _decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StreamFault(Code.UNPARSEABLE_MEDIA, "text is not valid UTF-8") from exc


def _sniff(data: bytes) -> str:
    """Kind of a streamed payload, from its bytes (the sniffer reads files: spill to one)."""
    from mien.media import sniff

    if not data:
        raise StreamFault(Code.UNPARSEABLE_MEDIA, "data is empty")
    with tempfile.NamedTemporaryFile(prefix="mien-stream-") as spill:
        spill.write(data)
        spill.flush()
        try:
            return str(sniff(Path(spill.name)).kind)
        except MienError as exc:
            raise StreamFault(Code.UNPARSEABLE_MEDIA, f"media could not be parsed: {exc}") from exc


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
