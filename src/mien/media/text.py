"""Decoding text files: UTF-8 (with or without a BOM) or UTF-16 with a BOM, nothing else."""

from __future__ import annotations

from pathlib import Path

from mien.errors import CorruptMediaError, TooLargeError

__all__ = ["read_text"]

MAX_BYTES_PER_CHAR = 4
"""Upper bound of bytes per character in UTF-8 and UTF-16, to refuse huge files before reading."""
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def read_text(path: Path, max_chars: int) -> str:
    """Read a text file, without its byte-order mark.

    Raises:
        CorruptMediaError: the bytes are not valid UTF-8 (or UTF-16 after a UTF-16 BOM).
        TooLargeError: the text has more than ``max_chars`` characters.
    """
    too_long = TooLargeError(f"text is longer than the limit of {max_chars:,} characters")
    if path.stat().st_size > (max_chars + 1) * MAX_BYTES_PER_CHAR:
        raise too_long
    data = path.read_bytes()
    encoding, start = "utf-8", 0
    for bom, bom_encoding in _BOMS:
        if data.startswith(bom):
            encoding, start = bom_encoding, len(bom)
            break
    try:
        text = data[start:].decode(encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-16" if encoding.startswith("utf-16") else "UTF-8"
        offset = start + exc.start
        raise CorruptMediaError(
            f"text is not valid {name} (byte 0x{data[offset]:02x} at offset {offset}); "
            "save it as UTF-8 and try again"
        ) from exc
    if len(text) > max_chars:
        raise too_long
    return text
