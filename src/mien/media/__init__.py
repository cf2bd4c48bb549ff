"""Reading batch inputs safely: type sniffing, validation, archives, URL downloads and text.

The pipeline calls :func:`expand_source` once per uploaded or downloaded source, and
:func:`download` once per URL. Every problem with an input is a ``MediaError`` whose message is
written for the user; :func:`expand_source` returns them as :class:`MediaFailure` entries.
"""

from __future__ import annotations

from mien.media.archive import ArchiveMember, extract_archive
from mien.media.expand import expand_source
from mien.media.fetch import IPAddress, check_url, download, is_blocked_address
from mien.media.items import MediaFailure, MediaItem, MediaKind
from mien.media.sniff import MediaType, SniffedKind, sniff
from mien.media.text import read_text
from mien.media.validate import validate

__all__ = [
    "ArchiveMember",
    "IPAddress",
    "MediaFailure",
    "MediaItem",
    "MediaKind",
    "MediaType",
    "SniffedKind",
    "check_url",
    "download",
    "expand_source",
    "extract_archive",
    "is_blocked_address",
    "read_text",
    "sniff",
    "validate",
]
