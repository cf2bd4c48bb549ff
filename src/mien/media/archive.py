"""Safe expansion of zip and tar archives (plain, gzip, bzip2, xz) into one folder.

Members are written under generated names (``00001.jpg``) with exclusive creation, so no member
name, duplicate or planted link can make a write land outside the folder; the member's path inside
the archive is kept as its name. Links, devices, absolute and ``..`` paths are refused per member.
Limits count the bytes actually decompressed and written, never the sizes the headers claim.
"""

from __future__ import annotations

import lzma
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from io import BufferedIOBase, RawIOBase
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Literal, Protocol

from mien.errors import (
    CorruptMediaError,
    MediaError,
    TooLargeError,
    UnsafeArchiveError,
    UnsupportedMediaError,
)
from mien.media.items import MediaFailure
from mien.media.sniff import TAR_DECOMPRESSORS, ZIP, MediaType
from mien.settings import Settings

__all__ = ["ArchiveMember", "extract_archive"]

CHUNK_BYTES = 1024 * 1024
BOMB_FLOOR_BYTES = 1024 * 1024
"""Expanding to less than this is never a bomb: tiny archives of padding compress very well."""
_SEPARATORS = re.compile(r"[/\\]")
_DRIVE = re.compile(r"[A-Za-z]:")
_SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")
_READ_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)
"""What reading a truncated or damaged compressed stream raises."""

_Kind = Literal[
    "file",
    "folder",
    "symbolic link",
    "hard link",
    "device or pipe",
    "special file",
    "password-protected file",
    "sparse file",
]
_UNSAFE: set[_Kind] = {"symbolic link", "hard link", "device or pipe", "special file"}


@dataclass(frozen=True)
class ArchiveMember:
    """One extracted file."""

    name: str
    """Normalised path inside the archive, e.g. ``faces/100.jpg``."""
    path: Path


def extract_archive(
    path: Path, media_type: MediaType, dest: Path, settings: Settings
) -> list[ArchiveMember | MediaFailure]:
    """Extract every regular file of an archive into ``dest``.

    A member that is unsafe, too large, encrypted or damaged becomes a MediaFailure and the others
    still come out. Directories and macOS metadata (``__MACOSX/``, ``.DS_Store``, ``._*``) are
    skipped. When the whole archive is refused, the files already written are removed.

    Raises:
        TooLargeError: too many members, too many bytes in total, or a decompression bomb.
        CorruptMediaError: the archive cannot be read, or holds no file.
    """
    dest.mkdir(parents=True, exist_ok=True)
    writer = _Writer(dest, settings, compressed_bytes=path.stat().st_size)
    try:
        if media_type.content_type == ZIP:
            _extract_zip(path, writer)
        else:
            _extract_tar(path, media_type, writer)
    except tarfile.TarError as exc:
        writer.remove_written()
        raise CorruptMediaError(
            f"the {media_type.label} archive is truncated or damaged: {exc}"
        ) from exc
    except MediaError:
        writer.remove_written()
        raise
    if not writer.results:
        raise CorruptMediaError("archive is empty: it holds no files")
    return writer.results


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


@dataclass(frozen=True)
class _Entry:
    """An archive entry as its format describes it, before any check."""

    name: str
    kind: _Kind
    size: int
    """Size the header claims; checked again while writing."""
    open: Callable[[], AbstractContextManager[_Readable]]


class _Counting(RawIOBase):
    """A decompressed stream that counts what it yields against the bomb limit.

    Read errors become CorruptMediaError naming ``what`` (the archive, or a zip member).
    """

    def __init__(self, source: _Readable, writer: _Writer, what: str) -> None:
        self._source = source
        self._writer = writer
        self._what = what

    def readable(self) -> bool:
        """Tell ``io`` this stream can be read."""
        return True

    def read(self, size: int = -1, /) -> bytes:
        """Read and count up to ``size`` bytes."""
        try:
            data = self._source.read(size)
        except _READ_ERRORS as exc:
            raise CorruptMediaError(f"{self._what} is truncated or damaged: {exc}") from exc
        self._writer.count_expanded(len(data))
        return data


@dataclass
class _Writer:
    """Checks entries, writes members under generated names and enforces every limit."""

    dest: Path
    settings: Settings
    compressed_bytes: int
    results: list[ArchiveMember | MediaFailure] = field(default_factory=list, init=False)
    _entries: int = field(default=0, init=False)
    _files: int = field(default=0, init=False)
    _expanded_bytes: int = field(default=0, init=False)
    _written_bytes: int = field(default=0, init=False)
    _names: set[str] = field(default_factory=set, init=False)

    def count_entry(self) -> None:
        """Count any entry, folders included: a million empty folders is an attack too."""
        self._entries += 1
        if self._entries > self.settings.max_archive_members:
            raise TooLargeError(
                f"archive has more than the limit of {self.settings.max_archive_members:,} members"
            )

    def count_expanded(self, size: int) -> None:
        """Count decompressed bytes; refuse the archive once they pass the ratio limit."""
        self._expanded_bytes += size
        ratio = self.settings.max_compression_ratio
        if self._expanded_bytes > max(ratio * self.compressed_bytes, BOMB_FLOOR_BYTES):
            raise TooLargeError(
                f"archive expands to more than {ratio:g} times its size, which looks like a "
                "decompression bomb; it was not expanded"
            )

    def add(self, entry: _Entry) -> None:
        """Extract one entry, or record why it was refused."""
        if entry.kind == "folder":
            return
        try:
            name = _normalise(entry.name)
        except UnsafeArchiveError as exc:
            self.results.append(MediaFailure(entry.name, str(exc)))
            return
        parts = name.split("/")
        if "__MACOSX" in parts or parts[-1] == ".DS_Store" or parts[-1].startswith("._"):
            return
        if name in self._names:
            refusal: str | None = f"archive member '{name}' appears more than once"
        elif entry.kind in _UNSAFE:
            refusal = (
                f"archive member '{name}' is a {entry.kind}; links and special files are never "
                "extracted"
            )
        elif entry.kind != "file":
            refusal = f"archive member '{name}' is a {entry.kind}, which mien cannot read"
        else:
            refusal = None
        self._names.add(name)
        self.results.append(MediaFailure(name, refusal) if refusal else self._write(name, entry))

    def _write(self, name: str, entry: _Entry) -> ArchiveMember | MediaFailure:
        limit = self.settings.max_file_bytes
        too_large = MediaFailure(name, f"archive member '{name}' is larger than {limit:,} bytes")
        if entry.size > limit:
            return too_large
        self._files += 1
        target = self.dest / f"{self._files:05d}{_suffix(name)}"
        out = target.open("xb")
        try:
            with out, entry.open() as source:
                size = self._copy(source, out, limit)
        except (CorruptMediaError, UnsupportedMediaError) as exc:
            target.unlink()
            return MediaFailure(name, str(exc))
        except BaseException:
            target.unlink()
            raise
        if size > limit:
            target.unlink()
            return too_large
        return ArchiveMember(name, target)

    def _copy(self, source: _Readable, out: BinaryIO, limit: int) -> int:
        """Copy until the end or until one byte past ``limit``; returns the bytes seen."""
        size = 0
        while chunk := source.read(CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                break
            self._written_bytes += len(chunk)
            if self._written_bytes > self.settings.max_archive_bytes:
                raise TooLargeError(
                    "archive expands to more than the limit of "
                    f"{self.settings.max_archive_bytes:,} bytes"
                )
            out.write(chunk)
        return size

    def remove_written(self) -> None:
        """Delete what was extracted, after the archive as a whole was refused."""
        for result in self.results:
            if isinstance(result, ArchiveMember):
                result.path.unlink(missing_ok=True)


def _normalise(raw: str) -> str:
    """Posix path without empty or ``.`` parts; refuses absolute and ``..`` paths."""
    if raw.startswith(("/", "\\")) or _DRIVE.match(raw):
        raise UnsafeArchiveError(f"archive member '{raw}' has an absolute path; it was skipped")
    parts = [part for part in _SEPARATORS.split(raw) if part not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(
            f"archive member '{raw}' points outside the archive with '..'; it was skipped"
        )
    return "/".join(parts)


def _suffix(name: str) -> str:
    """The member's extension when it is harmless, kept so the extracted files are readable."""
    suffix = PurePosixPath(name).suffix
    return suffix if _SAFE_SUFFIX.fullmatch(suffix) else ""


def _extract_zip(path: Path, writer: _Writer) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, NotImplementedError, UnicodeDecodeError, OSError) as exc:
        raise CorruptMediaError(f"the zip archive is truncated or damaged: {exc}") from exc
    with archive:
        infos = archive.infolist()
        for _ in infos:  # the central directory lists every entry: refuse before writing any
            writer.count_entry()
        for info in infos:
            opener = _zip_opener(archive, info, writer)
            writer.add(_Entry(info.filename, _zip_kind(info), info.file_size, opener))


def _zip_kind(info: zipfile.ZipInfo) -> _Kind:
    file_type = stat.S_IFMT(info.external_attr >> 16)  # Unix mode, 0 when made elsewhere
    if info.is_dir() or file_type == stat.S_IFDIR:
        return "folder"
    if file_type == stat.S_IFLNK:
        return "symbolic link"
    if file_type not in (0, stat.S_IFREG):
        return "special file"
    if info.flag_bits & 0x1:
        return "password-protected file"
    return "file"


def _zip_opener(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, writer: _Writer
) -> Callable[[], AbstractContextManager[_Readable]]:
    @contextmanager
    def open_member() -> Iterator[_Readable]:
        what = f"archive member '{info.filename}'"
        try:
            member = archive.open(info)
        except NotImplementedError as exc:
            raise UnsupportedMediaError(
                f"{what} uses a zip feature mien cannot read: {exc}"
            ) from exc
        except (zipfile.BadZipFile, OSError) as exc:
            raise CorruptMediaError(f"{what} is truncated or damaged: {exc}") from exc
        with member:
            yield _Counting(member, writer, what)

    return open_member


def _extract_tar(path: Path, media_type: MediaType, writer: _Writer) -> None:
    open_stream = TAR_DECOMPRESSORS.get(media_type.content_type, _open_plain)
    with open_stream(path) as stream:
        counting = _Counting(stream, writer, f"the {media_type.label} archive")
        with tarfile.open(fileobj=counting, mode="r|") as archive:
            for member in archive:
                writer.count_entry()
                kind = _tar_kind(member)
                writer.add(_Entry(member.name, kind, member.size, _tar_opener(archive, member)))


def _open_plain(path: Path) -> BufferedIOBase:
    return path.open("rb")


def _tar_kind(member: tarfile.TarInfo) -> _Kind:
    if member.isdir():
        return "folder"
    if member.issym():
        return "symbolic link"
    if member.islnk():
        return "hard link"
    if member.ischr() or member.isblk() or member.isfifo():
        return "device or pipe"
    if member.issparse():
        return "sparse file"
    return "file" if member.isreg() else "special file"


def _tar_opener(
    archive: tarfile.TarFile, member: tarfile.TarInfo
) -> Callable[[], AbstractContextManager[_Readable]]:
    @contextmanager
    def open_member() -> Iterator[_Readable]:
        source = archive.extractfile(member)
        if source is None:  # only regular files are opened, so this cannot happen
            raise UnsupportedMediaError(f"archive member '{member.name}' has no data")
        with source:
            yield source

    return open_member
