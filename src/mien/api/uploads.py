"""Multipart uploads streamed straight into the job's folder.

Starlette's form parser spools each file to a temporary file first; a batch upload can be
gigabytes of video, so mien parses the body itself and writes every ``file`` part once, to
``inputs/<i>``, hashing it on the way. The ``json`` part is accepted both as a plain form field
(the generated SDK client) and as a file part (the SDK's hand-patched wrapper).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from mien.schemas import SourceFile

__all__ = ["MAX_JSON_BYTES", "Upload", "UploadError", "read_upload"]

MAX_JSON_BYTES = 1024 * 1024
"""Largest ``json`` part: a request configuration, not data."""


class UploadError(ValueError):
    """The body is not a usable multipart upload; the message is for the client."""


@dataclass
class Upload:
    """What a multipart body held: the raw ``json`` part and the saved files, in order."""

    json: bytes | None = None
    files: list[SourceFile] = field(default_factory=list)


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    content_type: str | None = None
    out: IO[bytes] | None = None
    md5: hashlib._Hash | None = None
    data: bytearray = field(default_factory=bytearray)


class _Receiver:
    """Parser callbacks: collect headers, route each part's bytes to a file or to memory."""

    def __init__(self, inputs: Path) -> None:
        self.inputs = inputs
        self.upload = Upload()
        self.part = _Part()
        self.pending: list[tuple[IO[bytes], bytes]] = []  # written off the event loop
        self.open_files: list[IO[bytes]] = []
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}

    def on_part_begin(self) -> None:
        self.part = _Part()
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if b"name" not in options:
            raise UploadError("a multipart part has no name in its Content-Disposition")
        self.part.name = options[b"name"].decode("utf-8", "replace")
        if b"filename" in options:
            self.part.filename = options[b"filename"].decode("utf-8", "replace")
        content_type = self._headers.get(b"content-type")
        self.part.content_type = content_type.decode("latin-1") if content_type else None
        if self.part.name == "file":
            if self.part.filename is None:
                raise UploadError("each 'file' part must be a file upload")
            self.inputs.mkdir(parents=True, exist_ok=True)
            self.part.out = (self.inputs / str(len(self.upload.files))).open("wb")
            self.open_files.append(self.part.out)
            self.part.md5 = hashlib.md5(usedforsecurity=False)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.part.out is not None:
            assert self.part.md5 is not None
            self.part.md5.update(chunk)
            self.pending.append((self.part.out, chunk))
        elif self.part.name == "json":
            if len(self.part.data) + len(chunk) > MAX_JSON_BYTES:
                raise UploadError(f"the json part is larger than {MAX_JSON_BYTES:,} bytes")
            self.part.data += chunk
        # other fields are ignored, as v0 ignored them

    def on_part_end(self) -> None:
        part = self.part
        if part.out is not None and part.md5 is not None:
            name = Path(part.filename or "file").name or "file"
            self.upload.files.append(
                SourceFile(
                    filename=name, content_type=part.content_type, md5sum=part.md5.hexdigest()
                )
            )
        elif part.name == "json":
            self.upload.json = bytes(part.data)


async def read_upload(request: Request, inputs: Path) -> Upload:
    """Parse a ``multipart/form-data`` body; ``file`` parts are saved as ``inputs/<i>``."""
    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise UploadError("multipart body without a boundary")
    receiver = _Receiver(inputs)
    parser = MultipartParser(boundary, {  # type: ignore[arg-type]
        name: getattr(receiver, name)
        for name in ("on_part_begin", "on_header_field", "on_header_value", "on_header_end",
                     "on_headers_finished", "on_part_data", "on_part_end")
    })  # fmt: skip
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            for out, data in receiver.pending:
                await run_in_threadpool(out.write, data)
            receiver.pending.clear()
        parser.finalize()
    except UploadError:
        raise
    except Exception as exc:  # the parser's own errors: a malformed body
        raise UploadError(f"malformed multipart body: {exc}") from exc
    finally:
        for out in receiver.open_files:
            out.close()
    return receiver.upload
