"""Turn one uploaded or downloaded source into the media items the models read."""

from __future__ import annotations

import tempfile
from pathlib import Path

from mien.errors import MediaError, TooLargeError, UnsupportedMediaError
from mien.media.archive import ArchiveMember, extract_archive
from mien.media.items import MediaFailure, MediaItem
from mien.media.sniff import sniff
from mien.media.validate import validate
from mien.settings import Settings

__all__ = ["expand_source"]


def expand_source(
    path: Path, name: str, workdir: Path, settings: Settings
) -> list[MediaItem | MediaFailure]:
    """Identify, check and (for archives) expand one source.

    A plain file becomes one item named ``name``. An archive is extracted into a new folder under
    ``workdir`` and becomes one item per member, named by its path inside the archive; each member
    is sniffed and validated on its own, so a broken member fails alone. Archives inside archives
    are not expanded. Media problems never raise: they come back as MediaFailure, sorted by name
    with the items.
    """
    try:
        size = path.stat().st_size
        if size > settings.max_file_bytes:
            raise TooLargeError(
                f"file is {size:,} bytes, larger than the limit of {settings.max_file_bytes:,}"
            )
        media_type = sniff(path)
        if media_type.kind != "archive":
            validate(path, media_type, settings)
            return [MediaItem(name, media_type.kind, path, media_type.content_type)]
        workdir.mkdir(parents=True, exist_ok=True)
        dest = Path(tempfile.mkdtemp(prefix="archive-", dir=workdir))
        members = extract_archive(path, media_type, dest, settings)
    except MediaError as exc:
        return [MediaFailure(name, str(exc))]
    results = [
        _member_item(member, settings) if isinstance(member, ArchiveMember) else member
        for member in members
    ]
    return sorted(results, key=lambda result: result.name)


def _member_item(member: ArchiveMember, settings: Settings) -> MediaItem | MediaFailure:
    try:
        media_type = sniff(member.path)
        if media_type.kind == "archive":
            raise UnsupportedMediaError(
                f"a {media_type.label} archive inside an archive is not expanded; "
                "only one level of archives is supported"
            )
        validate(member.path, media_type, settings)
    except MediaError as exc:
        return MediaFailure(member.name, str(exc))
    return MediaItem(member.name, media_type.kind, member.path, media_type.content_type)
