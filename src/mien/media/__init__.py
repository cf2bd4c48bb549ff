"""Reading batch inputs safely: type sniffing, validation, archives, URL downloads and text.

The pipeline calls :func:`expand_source` once per uploaded or downloaded source, and
:func:`download` once per URL. Every problem with an input is a ``MediaError`` whose message is
written for the user; :func:`expand_source` returns them as :class:`MediaFailure` entries.
The models never read files: :func:`load_image`, :func:`iter_frames` and :func:`load_audio` /
:func:`iter_audio` decode for them.
"""

from __future__ import annotations

from mien.media.archive import ArchiveMember, extract_archive
from mien.media.audio import SAMPLE_RATE_HZ, AudioChunk, iter_audio, load_audio
from mien.media.expand import expand_source
from mien.media.fetch import IPAddress, check_url, download, is_blocked_address
from mien.media.image import load_image
from mien.media.items import MediaFailure, MediaItem, MediaKind
from mien.media.sniff import MediaType, SniffedKind, sniff
from mien.media.text import read_text
from mien.media.validate import load_facemesh, parse_facemesh, validate
from mien.media.video import VideoFrame, VideoInfo, iter_frames, video_info

__all__ = [
    "ArchiveMember",
    "AudioChunk",
    "IPAddress",
    "MediaFailure",
    "MediaItem",
    "MediaKind",
    "MediaType",
    "SAMPLE_RATE_HZ",
    "SniffedKind",
    "VideoFrame",
    "VideoInfo",
    "check_url",
    "download",
    "expand_source",
    "extract_archive",
    "is_blocked_address",
    "iter_audio",
    "iter_frames",
    "load_audio",
    "load_image",
    "read_text",
    "sniff",
    "load_facemesh",
    "parse_facemesh",
    "validate",
    "video_info",
]
