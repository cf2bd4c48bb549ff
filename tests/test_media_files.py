"""Batch inputs from files: type sniffing, validation, text decoding and archive expansion.

All media is generated here. Every file is saved under a misleading name (``upload.dat``) to show
that types come from the bytes, never from the name.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import tarfile
import wave
import zipfile
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from mien.errors import CorruptMediaError, TooLargeError, UnsupportedMediaError
from mien.media import MediaFailure, MediaItem, MediaKind, expand_source, read_text, sniff
from mien.settings import Settings

# --- media factories -------------------------------------------------------------------------


def _image(fmt: str, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), color).save(buffer, fmt)
    return buffer.getvalue()


def _video(fmt: str, codec: str, with_audio: bool = False) -> bytes:
    """Six 32×32 frames at 10 fps, optionally with an AAC track."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as out:
        video = out.add_stream(codec, rate=10)
        assert isinstance(video, av.VideoStream)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        audio = out.add_stream("aac", rate=16_000) if with_audio else None
        for index in range(6):
            pixels = np.full((32, 32, 3), index * 40, np.uint8)
            out.mux(video.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        out.mux(video.encode())
        if audio is not None:
            out.mux(audio.encode(_tone(16_000)))
            out.mux(audio.encode())
    return buffer.getvalue()


def _tone(rate_hz: int) -> av.AudioFrame:
    """Half a second of a 440 Hz tone."""
    time_s = np.arange(rate_hz // 2) / rate_hz
    samples = (0.3 * np.sin(2 * np.pi * 440 * time_s)).astype(np.float32)[None, :]
    frame = av.AudioFrame.from_ndarray(samples, format="flt", layout="mono")
    frame.sample_rate, frame.pts = rate_hz, 0
    return frame


def _audio(fmt: str, codec: str, rate_hz: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate_hz, layout="mono")
        assert isinstance(stream, av.AudioStream)
        out.mux(stream.encode(_tone(rate_hz)))
        out.mux(stream.encode())
    return buffer.getvalue()


def _wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(bytes(3200))
    return buffer.getvalue()


def _facemesh(faces: int = 2, points: int = 478) -> bytes:
    mesh = [[[0.5, 0.25 + i / 1000, -0.01] for i in range(points)] for _ in range(faces)]
    return json.dumps(mesh).encode()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tar(members: list[tarfile.TarInfo | tuple[str, bytes]], mode: str = "w") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:  # type: ignore[call-overload]
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                archive.addfile(member)
            else:
                info = tarfile.TarInfo(member[0])
                info.size = len(member[1])
                archive.addfile(info, io.BytesIO(member[1]))
    return buffer.getvalue()


def _tar_entry(name: str, kind: bytes, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """The job's work folder; the test also checks nothing is written beside it."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def _expand(
    work: Path, data: bytes, settings: Settings | None = None, name: str = "upload.dat"
) -> list[MediaItem | MediaFailure]:
    """Save ``data`` in the work folder and expand it, checking nothing lands outside it."""
    path = work / "source.bin"
    path.write_bytes(data)
    results = expand_source(path, name, work, settings or Settings())
    assert sorted(p.name for p in work.parent.iterdir()) == ["work"]
    for result in results:
        if isinstance(result, MediaItem):
            assert result.path.resolve().is_relative_to(work.resolve())
    return results


def _only_failure(results: list[MediaItem | MediaFailure]) -> str:
    assert len(results) == 1 and isinstance(results[0], MediaFailure), results
    return results[0].message


def _split(results: list[MediaItem | MediaFailure]) -> tuple[dict[str, MediaItem], dict[str, str]]:
    """Items and failure messages by name, after checking the results are sorted by name."""
    assert [r.name for r in results] == sorted(r.name for r in results)
    items = {r.name: r for r in results if isinstance(r, MediaItem)}
    return items, {r.name: r.message for r in results if isinstance(r, MediaFailure)}


# --- sniffing and validation -----------------------------------------------------------------

GOOD: dict[str, tuple[Callable[[], bytes], MediaKind, str]] = {
    "jpeg": (lambda: _image("JPEG"), "image", "image/jpeg"),
    "png": (lambda: _image("PNG"), "image", "image/png"),
    "webp": (lambda: _image("WEBP"), "image", "image/webp"),
    "bmp": (lambda: _image("BMP"), "image", "image/bmp"),
    "tiff": (lambda: _image("TIFF"), "image", "image/tiff"),
    "gif": (lambda: _image("GIF"), "image", "image/gif"),
    "mp4": (lambda: _video("mp4", "mpeg4", with_audio=True), "video", "video/mp4"),
    "mov": (lambda: _video("mov", "mpeg4"), "video", "video/quicktime"),
    "webm": (lambda: _video("webm", "libvpx"), "video", "video/webm"),
    "mkv": (lambda: _video("matroska", "mpeg4"), "video", "video/x-matroska"),
    "avi": (lambda: _video("avi", "mpeg4"), "video", "video/x-msvideo"),
    "wav": (_wav, "audio", "audio/wav"),
    "flac": (lambda: _audio("flac", "flac"), "audio", "audio/flac"),
    "mp3": (lambda: _audio("mp3", "libmp3lame"), "audio", "audio/mpeg"),
    "ogg-opus": (lambda: _audio("ogg", "libopus", 48_000), "audio", "audio/ogg"),
    "m4a": (lambda: _audio("ipod", "aac"), "audio", "audio/mp4"),
    "aac": (lambda: _audio("adts", "aac"), "audio", "audio/aac"),
    "webm-audio": (lambda: _audio("webm", "libopus", 48_000), "audio", "audio/webm"),
    "utf8": (lambda: "Ça va? 😀\n".encode(), "text", "text/plain"),
    "utf8-bom": (lambda: "\ufeffhello".encode(), "text", "text/plain"),
    "utf16-bom": (lambda: "\ufeffhello there".encode("utf-16-le"), "text", "text/plain"),
    "facemesh": (_facemesh, "facemesh", "application/json"),
}


@pytest.mark.parametrize("sample", GOOD)
def test_good_file_becomes_one_item_typed_from_its_bytes(work: Path, sample: str) -> None:
    make, kind, content_type = GOOD[sample]
    [item] = _expand(work, make())
    assert item == MediaItem("upload.dat", kind, work / "source.bin", content_type)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "file is empty"),
        (bytes(range(256)) * 4, "could not be identified"),
        (b"\x7fELF\x02\x01\x01" + bytes(100), "could not be identified"),
        (
            gzip.compress(b"just some gzip-compressed text, not a tar" * 20),
            "not hold a tar archive",
        ),
        (_image("JPEG")[:-200], "the JPEG image is truncated or damaged"),
        (_image("PNG")[:60], "the PNG image is truncated or damaged"),
        (b"\xff\xd8\xff\xe0" + bytes(40), "the JPEG image is truncated or damaged"),
        (_video("mp4", "mpeg4")[:-400], "the MP4 file could not be read"),
        (_audio("flac", "flac")[:50], "the FLAC file is truncated or damaged"),
        ("café au lait".encode("latin-1"), "text is not valid UTF-8 (byte 0xe9 at offset 3)"),
        ("\ufeffhi".encode("utf-16-le") + b"\x00\xd8", "text is not valid UTF-16"),
        (_facemesh(points=477), "face 0 of the facemesh JSON is not 478 points of 3 numbers"),
        (b"[[[1, 2, 3], [4, 5", "the facemesh JSON is not valid JSON"),
        (b"[[[1, NaN, 2]]]", "the facemesh JSON is not valid JSON: NaN is not a number"),
    ],
    ids=[
        "empty",
        "unknown-binary",
        "elf",
        "gzip-not-tar",
        "truncated-jpeg",
        "truncated-png",
        "jpeg-garbage",
        "truncated-mp4",
        "truncated-flac",
        "latin1-text",
        "bad-utf16",
        "facemesh-shape",
        "facemesh-json",
        "facemesh-nan",
    ],
)
def test_bad_file_fails_with_a_clear_message(work: Path, data: bytes, message: str) -> None:
    assert message in _only_failure(_expand(work, data))


def test_sniff_raises_typed_errors(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"")
    with pytest.raises(CorruptMediaError, match="file is empty"):
        sniff(path)
    path.write_bytes(b"\x00\x01\x02\x03 binary")
    with pytest.raises(UnsupportedMediaError, match="could not be identified"):
        sniff(path)


def _audio_with_cover_art() -> bytes:
    """An AAC track plus a JPEG marked as attached picture, as music files carry cover art."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        audio = out.add_stream("aac", rate=16_000, layout="mono")
        cover = out.add_stream("mjpeg", rate=1)
        assert isinstance(cover, av.VideoStream)
        cover.width, cover.height, cover.pix_fmt = 48, 32, "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        out.mux(audio.encode(_tone(16_000)))
        out.mux(audio.encode())
        picture = av.Packet(_image("JPEG"))
        picture.stream, picture.pts, picture.dts = cover, 0, 0
        out.mux(picture)
    return buffer.getvalue()


def test_audio_only_containers_are_audio_and_cover_art_is_not_video(tmp_path: Path) -> None:
    path = tmp_path / "x"
    for data, kind in [
        (_audio("mp4", "aac"), "audio"),
        (_audio_with_cover_art(), "audio"),
        (_video("mp4", "mpeg4"), "video"),
    ]:
        path.write_bytes(data)
        assert sniff(path).kind == kind


def test_limits_from_settings(work: Path) -> None:
    text = ("word " * 400).encode()
    assert "larger than the limit of 1,000" in _only_failure(
        _expand(work, text, Settings(max_file_bytes=1000))
    )
    assert "text is longer than the limit of 100 characters" in _only_failure(
        _expand(work, text, Settings(max_text_chars=100))
    )


# --- text ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        "naïve café".encode(),
        "\ufeffnaïve café".encode(),
        "\ufeffnaïve café".encode("utf-16-le"),
        "\ufeffnaïve café".encode("utf-16-be"),
    ],
    ids=["utf8", "utf8-bom", "utf16-le", "utf16-be"],
)
def test_read_text_decodes_and_strips_the_bom(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(data)
    assert read_text(path, max_chars=10) == "naïve café"


def test_read_text_limits_characters_not_bytes(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(("é" * 10).encode())
    assert read_text(path, max_chars=10) == "é" * 10
    with pytest.raises(TooLargeError, match="longer than the limit of 9 characters"):
        read_text(path, max_chars=9)
    path.write_bytes(b"x" * 10_000)
    with pytest.raises(TooLargeError):
        read_text(path, max_chars=10)


def test_read_text_refuses_legacy_encodings(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes("€100".encode("cp1252"))
    with pytest.raises(CorruptMediaError, match=r"not valid UTF-8 \(byte 0x80 at offset 0\)"):
        read_text(path, max_chars=100)


# --- archives --------------------------------------------------------------------------------

GOOD_MEMBERS = {
    "faces/100.jpg": _image("JPEG"),
    "faces/101.png": _image("PNG", (10, 200, 10)),
    "notes/hello.txt": b"hello world\n",
}


@pytest.mark.parametrize(
    "mode", ["zip", "w", "w:gz", "w:bz2", "w:xz"], ids=["zip", "tar", "tar.gz", "tar.bz2", "tar.xz"]
)
def test_archive_becomes_one_item_per_member(work: Path, mode: str) -> None:
    members = {**GOOD_MEMBERS, "__MACOSX/faces/._100.jpg": b"\x00\x05\x16\x07", ".DS_Store": b"x"}
    data = _zip(members) if mode == "zip" else _tar(list(members.items()), mode)
    items, errors = _split(_expand(work, data))
    assert not errors and sorted(items) == sorted(GOOD_MEMBERS)
    for name, item in items.items():
        assert item.path.read_bytes() == GOOD_MEMBERS[name]
    assert [item.kind for item in items.values()] == ["image", "image", "text"]
    assert items["faces/101.png"].content_type == "image/png"


def test_each_bad_member_fails_alone(work: Path) -> None:
    data = _zip(
        {
            "good.jpg": _image("JPEG"),
            "dir/": b"",
            "broken.jpg": _image("JPEG")[:-300],
            "empty.wav": b"",
            "mystery.bin": bytes(range(256)),
            "inner.zip": _zip({"a.txt": b"a"}),
            "inner.tar.gz": _tar([("a.txt", b"a")], "w:gz"),
            "latin1.txt": "déjà vu".encode("latin-1"),
        }
    )
    items, messages = _split(_expand(work, data))
    assert list(items) == ["good.jpg"]
    assert "JPEG image is truncated or damaged" in messages["broken.jpg"]
    assert messages["empty.wav"] == "file is empty"
    assert "could not be identified" in messages["mystery.bin"]
    assert "zip archive inside an archive is not expanded" in messages["inner.zip"]
    assert "tar.gz archive inside an archive is not expanded" in messages["inner.tar.gz"]
    assert "text is not valid UTF-8" in messages["latin1.txt"]


@pytest.mark.parametrize(
    "data",
    [
        _zip({}),
        _zip({"empty/": b"", "__MACOSX/._x": b"x", "a/.DS_Store": b"x"}),
        _tar([], "w"),
        _tar([], "w:gz"),
        _tar([_tar_entry("folder", tarfile.DIRTYPE)], "w:xz"),
    ],
    ids=["zip", "zip-only-folders-and-metadata", "tar", "tar.gz", "tar.xz-only-folder"],
)
def test_empty_archive(work: Path, data: bytes) -> None:
    assert _only_failure(_expand(work, data)) == "archive is empty: it holds no files"


def test_path_traversal_is_refused_per_member(work: Path) -> None:
    data = _zip(
        {"../escape.txt": b"x", "/etc/abs.txt": b"x", "ok/../../up.txt": b"x", "a.txt": b"a"}
    )
    items, errors = _split(_expand(work, data))
    assert list(items) == ["a.txt"]
    assert "'../escape.txt' points outside the archive" in errors["../escape.txt"]
    assert "'ok/../../up.txt' points outside" in errors["ok/../../up.txt"]
    assert "'/etc/abs.txt' has an absolute path" in errors["/etc/abs.txt"]


def test_links_and_devices_are_refused_and_cannot_redirect_writes(work: Path) -> None:
    outside = work.parent / "outside"
    data = _tar(
        [
            _tar_entry("link", tarfile.SYMTYPE, str(outside)),
            ("link/planted.txt", b"through the link"),
            ("../../escape.txt", b"up"),
            _tar_entry("hard", tarfile.LNKTYPE, "/etc/passwd"),
            _tar_entry("dev", tarfile.CHRTYPE),
            _tar_entry("pipe", tarfile.FIFOTYPE),
            ("real.txt", b"real"),
        ],
        "w:gz",
    )
    items, errors = _split(_expand(work, data))
    assert not outside.exists()
    assert sorted(items) == ["link/planted.txt", "real.txt"]
    # A plain file whose name has a folder in it, written inside the work folder.
    assert items["link/planted.txt"].path.parent.parent == work
    expected = {
        "link": "is a symbolic link",
        "hard": "is a hard link",
        "dev": "is a device or pipe",
        "pipe": "is a device or pipe",
        "../../escape.txt": "points outside the archive",
    }
    assert errors.keys() == expected.keys()
    for name, words in expected.items():
        assert f"'{name}' {words}" in errors[name]


def test_zip_symlink_is_refused(work: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("link.jpg")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("a.txt", "a")
    items, errors = _split(_expand(work, buffer.getvalue()))
    assert list(items) == ["a.txt"]
    assert "'link.jpg' is a symbolic link" in errors["link.jpg"]


def test_zip_bomb_is_refused_while_expanding(work: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", "first member")
        with archive.open("zeros.bin", "w") as member:
            for _ in range(200):
                member.write(bytes(1024 * 1024))
    results = _expand(work, buffer.getvalue(), Settings(max_compression_ratio=20))
    assert "expands to more than 20 times its size" in _only_failure(results)
    assert [p.name for p in work.rglob("*") if p.is_file()] == ["source.bin"]


def test_tar_bomb_is_refused_while_decompressing(work: Path) -> None:
    info = tarfile.TarInfo("zeros.bin")
    info.size = 64 * 1024 * 1024
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:bz2") as archive:
        archive.addfile(info, io.BytesIO(bytes(info.size)))
    data = buffer.getvalue()
    results = _expand(work, data, Settings(max_compression_ratio=50))
    assert "looks like a decompression bomb" in _only_failure(results)
    assert [p.name for p in work.rglob("*") if p.is_file()] == ["source.bin"]


def test_member_and_archive_size_limits(work: Path) -> None:
    data = _zip({"big.txt": b"y" * 5000, "small.txt": b"small"})
    items, errors = _split(_expand(work, data, Settings(max_file_bytes=2000)))
    assert list(items) == ["small.txt"]
    assert "'big.txt' is larger than 2,000 bytes" in errors["big.txt"]

    data = _zip({"a.txt": b"a" * 3000, "b.txt": b"b" * 3000})
    message = _only_failure(_expand(work, data, Settings(max_archive_bytes=5000)))
    assert "more than the limit of 5,000 bytes" in message
    message = _only_failure(_expand(work, data, Settings(max_archive_members=1)))
    assert message == "archive has more than the limit of 1 members"


def test_total_limit_counts_bytes_in_a_single_member(work: Path) -> None:
    data = _tar([("a.txt", b"a" * 4000)], "w")
    message = _only_failure(_expand(work, data, Settings(max_archive_bytes=3000)))
    assert "more than the limit of 3,000 bytes" in message


def test_duplicate_member_names(work: Path) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = _zip_with_duplicate()
    results = _expand(work, data)
    assert [r.name for r in results] == ["a.txt", "a.txt"]
    item, failure = sorted(results, key=lambda r: isinstance(r, MediaFailure))
    assert isinstance(item, MediaItem) and item.path.read_bytes() == b"first"
    assert isinstance(failure, MediaFailure) and "appears more than once" in failure.message


def _zip_with_duplicate() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "first")
        archive.writestr("a.txt", "second")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_zip(GOOD_MEMBERS)[:-30], "the zip archive is truncated or damaged"),
        (_tar(list(GOOD_MEMBERS.items()), "w:gz")[:-200], "truncated or damaged"),
        (bz2.compress(_tar([("a.txt", b"a")]))[:40], "truncated or damaged"),
    ],
    ids=["zip", "tar.gz", "tar.bz2"],
)
def test_damaged_archive(work: Path, data: bytes, message: str) -> None:
    results = _expand(work, data)
    failures = [r for r in results if isinstance(r, MediaFailure)]
    assert failures and message in failures[-1].message
