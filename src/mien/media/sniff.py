"""Identify an input's type from its bytes, never from its name.

Magic bytes decide the format; for containers that can hold either audio or video (MP4/MOV,
WebM/MKV, Ogg, AVI) PyAV lists the tracks. Text is whatever decodes as UTF-8 (or UTF-16 with a
BOM) without binary control characters; facemesh JSON is text that opens with ``[[[`` and a number.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import lzma
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from io import BufferedIOBase
from pathlib import Path
from typing import Literal

from mien.errors import CorruptMediaError, UnsupportedMediaError
from mien.media.containers import probe_tracks
from mien.media.items import MediaKind

__all__ = ["TAR_DECOMPRESSORS", "ZIP", "MediaType", "SniffedKind", "sniff"]

HEAD_BYTES = 64 * 1024
"""How much of a file is read to identify it; enough to tell text from binary."""
TAR_BLOCK_BYTES = 512

ZIP = "application/zip"
TAR = "application/x-tar"
TAR_DECOMPRESSORS: dict[str, Callable[[Path], BufferedIOBase]] = {
    "application/gzip": gzip.GzipFile,
    "application/x-bzip2": bz2.BZ2File,
    "application/x-xz": lzma.LZMAFile,
}
"""How to read the tar inside each compressed-tar content type."""
_COMPRESSION_MAGIC = (
    (re.compile(rb"\x1f\x8b\x08"), "application/gzip", "gzip", "tar.gz"),
    (re.compile(rb"BZh[1-9]1AY&SY"), "application/x-bzip2", "bzip2", "tar.bz2"),
    (re.compile(rb"\xfd7zXZ\x00"), "application/x-xz", "xz", "tar.xz"),
)
"""Magic bytes, content type, compression name and archive label of each compressed tar."""

SniffedKind = Literal[MediaKind, "archive"]

SUPPORTED = (
    "images (JPEG, PNG, WebP, BMP, TIFF, GIF), video (MP4, MOV, WebM, MKV, AVI), "
    "audio (WAV, FLAC, MP3, Ogg/Opus, M4A/AAC), UTF-8 text, facemesh JSON, "
    "and zip/tar archives (.zip, .tar, .tar.gz, .tar.bz2, .tar.xz)"
)

_BMP_HEADER_SIZES = {12, 40, 52, 56, 64, 108, 124}
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip"}
_BINARY_CONTROL = re.compile("[\x00-\x08\x0e-\x1f]")
_BINARY_BYTES = re.compile(b"[\x00-\x08\x0e-\x1f]")
_FACEMESH_START = re.compile(r"\s*\[\s*\[\s*\[\s*[-0-9]")


@dataclass(frozen=True)
class MediaType:
    """What a file is."""

    kind: SniffedKind
    content_type: str
    """MIME type, e.g. ``image/jpeg`` or ``application/zip``."""
    label: str
    """Format name for messages, e.g. ``JPEG``."""


_TEXT = MediaType("text", "text/plain", "text")


def sniff(path: Path) -> MediaType:
    """Identify ``path`` from its bytes.

    Raises:
        CorruptMediaError: the file is empty, or a container that cannot be opened.
        UnsupportedMediaError: the type is not one mien reads.
    """
    size = path.stat().st_size
    if size == 0:
        raise CorruptMediaError("file is empty")
    with path.open("rb") as file:
        head = file.read(HEAD_BYTES)
    found = (
        _image(head)
        or _audio(head)
        or _archive(path, head)
        or _container(path, head, size)
        or _text(head)
    )
    if found is None:
        raise UnsupportedMediaError(
            f"file type could not be identified from its content; mien reads {SUPPORTED}"
        )
    return found


def _image(head: bytes) -> MediaType | None:
    if head.startswith(b"\xff\xd8\xff"):
        return MediaType("image", "image/jpeg", "JPEG")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType("image", "image/png", "PNG")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return MediaType("image", "image/gif", "GIF")
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return MediaType("image", "image/webp", "WebP")
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return MediaType("image", "image/tiff", "TIFF")
    if head.startswith(b"BM") and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return MediaType("image", "image/bmp", "BMP")
    return None


def _audio(head: bytes) -> MediaType | None:
    """Formats that only ever hold audio; decoding is left to validation."""
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return MediaType("audio", "audio/wav", "WAV")
    if head.startswith(b"fLaC"):
        return MediaType("audio", "audio/flac", "FLAC")
    if (head.startswith(b"ID3") and head[3:4] in (b"\x02", b"\x03", b"\x04")) or (
        _is_mpeg_audio_frame(head)
    ):
        return MediaType("audio", "audio/mpeg", "MP3")
    if _is_adts_frame(head):
        return MediaType("audio", "audio/aac", "AAC")
    return None


def _is_mpeg_audio_frame(head: bytes) -> bool:
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, sample_rate = head[2] >> 4, (head[2] >> 2) & 3
    # Layer I (bits 11) is left out: it is rare, and "\xff\xfe" is also the UTF-16 BOM.
    return version != 1 and layer in (1, 2) and bitrate not in (0, 15) and sample_rate != 3


def _is_adts_frame(head: bytes) -> bool:
    return (
        len(head) >= 7 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0 and (head[2] >> 2) & 15 < 13
    )


def _archive(path: Path, head: bytes) -> MediaType | None:
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return MediaType("archive", ZIP, "zip")
    for magic, content_type, compression, label in _COMPRESSION_MAGIC:
        if magic.match(head):
            return _compressed_tar(path, content_type, compression, label)
    if _looks_like_tar(head[:TAR_BLOCK_BYTES]):
        return MediaType("archive", TAR, "tar")
    return None


def _compressed_tar(path: Path, content_type: str, compression: str, label: str) -> MediaType:
    try:
        with TAR_DECOMPRESSORS[content_type](path) as file:
            block = file.read(TAR_BLOCK_BYTES)
    except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
        raise CorruptMediaError(f"the {compression} file is truncated or damaged: {exc}") from exc
    if not _looks_like_tar(block):
        raise UnsupportedMediaError(
            f"a {compression}-compressed file that does not hold a tar archive is not supported; "
            "use .zip or .tar.gz, .tar.bz2, .tar.xz"
        )
    return MediaType("archive", content_type, label)


def _looks_like_tar(block: bytes) -> bool:
    """A tar header with a valid checksum, or the zero block that ends (or is) an empty tar."""
    if len(block) < TAR_BLOCK_BYTES:
        return False
    if block == bytes(TAR_BLOCK_BYTES):
        return True
    try:
        stored = int(block[148:156].strip(b"\x00 "), 8)
    except ValueError:
        return False
    return stored == sum(block[:148]) + 8 * ord(" ") + sum(block[156:])


def _container(path: Path, head: bytes, size: int) -> MediaType | None:
    """Formats that hold audio, video or both: the tracks decide the kind."""
    if _is_box(head, size, {b"ftyp"}):
        quicktime = head[8:12] == b"qt  "
        names = ("MOV", "video/quicktime") if quicktime else ("MP4", "video/mp4")
        return _by_tracks(path, *names, "audio/mp4")
    if _is_box(head, size, _QUICKTIME_ATOMS):
        return _by_tracks(path, "MOV", "video/quicktime", "audio/mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        if b"webm" in head[:64]:
            return _by_tracks(path, "WebM", "video/webm", "audio/webm")
        return _by_tracks(path, "Matroska", "video/x-matroska", "audio/x-matroska")
    if head.startswith(b"OggS"):
        return _by_tracks(path, "Ogg", "video/ogg", "audio/ogg")
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return _by_tracks(path, "AVI", "video/x-msvideo", "video/x-msvideo")
    return None


def _is_box(head: bytes, size: int, types: set[bytes]) -> bool:
    """An ISO-BMFF/QuickTime box of one of ``types`` with a plausible length starts the file."""
    box_size = int.from_bytes(head[:4], "big")
    return head[4:8] in types and (box_size in (0, 1) or 8 <= box_size <= size)


def _by_tracks(path: Path, label: str, video_type: str, audio_type: str) -> MediaType:
    tracks = probe_tracks(path, label)
    if tracks.video:
        return MediaType("video", video_type, label)
    if tracks.audio:
        return MediaType("audio", audio_type, label)
    raise CorruptMediaError(
        f"the {label} file has no audio or video track; it may be truncated or damaged"
    )


def _text(head: bytes) -> MediaType | None:
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    decoder = codecs.getincrementaldecoder("utf-16" if utf16 else "utf-8-sig")()
    try:
        text = decoder.decode(head, final=False)
    except UnicodeDecodeError:
        # A BOM, or bytes free of control codes, mean text in the wrong encoding: validation
        # then says so, which helps more than calling the type unknown.
        return _TEXT if utf16 or not _BINARY_BYTES.search(head) else None
    if _BINARY_CONTROL.search(text):
        return None
    if _FACEMESH_START.match(text):
        return MediaType("facemesh", "application/json", "facemesh JSON")
    return _TEXT
