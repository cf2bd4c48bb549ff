"""Face identity descriptors: face-api's numbers, and dlib's 0.6 rule on real photos and video."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mien.media.image import load_image
from mien.media.video import iter_frames
from mien.models.face.analyzer import FaceAnalyzer
from mien.models.face.identity import SAME_PERSON, FaceEmbedder, FaceRecognitionNet
from mien.models.face.tfjs import load_shard
from mien.settings import Settings
from mien.weights import fetch
from tests.conftest import make_settings
from tests.face_media import face_media

# face-api 1.7.15's own FaceRecognitionNet (Node 20, @tensorflow/tfjs 4.22.0, wasm backend,
# faceRecognitionNet.computeFaceDescriptor on a tf.tensor3d of each crop below): the first six
# numbers and the norm of each descriptor.
FACE_API_CROPS = {"happy.jpg": (87, 156, 415, 484), "anger.jpg": (59, 167, 378, 486)}
FACE_API_REFERENCE = {
    "happy.jpg": (
        [-0.14058843, 0.04620009, 0.02896208, -0.08582474, -0.13775687, -0.06085166],
        1.34423502,
    ),
    "anger.jpg": (
        [-0.09939612, 0.13720828, -0.00083532, -0.09014678, -0.20408891, -0.00886162],
        1.41072534,
    ),
}
GROUPS = ["multi_face.jpg"] + [f"group{i}.jpg" for i in range(1, 7)]
SHIFT = (53, 37)
SCALE = 0.6


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def analyzer(settings: Settings) -> FaceAnalyzer:
    return FaceAnalyzer(settings)


@pytest.fixture(scope="module")
def embedder(settings: Settings) -> FaceEmbedder:
    return FaceEmbedder(settings)


def read(
    analyzer: FaceAnalyzer, embedder: FaceEmbedder, image: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Box centres (n, 2) and descriptors (n, 128) of every face in ``image``."""
    faces = analyzer.read(image)
    centres = np.array([[x + w / 2, y + h / 2] for x, y, w, h in (f.box for f in faces)])
    return centres, embedder.embed(image, [f.mesh.landmarks for f in faces])


def copies(image: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Shifted, mirrored and shrunk copies, each with the map of a centre back to the original."""
    height, width = image.shape[:2]
    dx, dy = SHIFT
    shifted = np.zeros_like(image)
    shifted[dy:, dx:] = image[:-dy, :-dx]
    small = Image.fromarray(image).resize((round(width * SCALE), round(height * SCALE)))
    return {  # copy, then (a, b) with original centre = a * centre + b
        "shifted": (shifted, np.array([1.0, 1.0]), np.array([-dx, -dy])),
        "mirrored": (image[:, ::-1].copy(), np.array([-1.0, 1.0]), np.array([width, 0])),
        "shrunk": (np.asarray(small), np.full(2, width / small.width), np.zeros(2)),
    }


@pytest.fixture(scope="module")
def group_distances(
    analyzer: FaceAnalyzer, embedder: FaceEmbedder
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per photo: distances between its different people, and between each face and its copies."""
    different: dict[str, list[float]] = {}
    same: dict[str, list[float]] = {}
    for name in GROUPS:
        image = load_image(face_media(name))
        centres, descriptors = read(analyzer, embedder, image)
        assert len(descriptors) >= 3, name
        different[name] = [
            float(np.linalg.norm(descriptors[i] - descriptors[j]))
            for i, j in combinations(range(len(descriptors)), 2)
        ]
        same[name] = []
        for copy, a, b in copies(image).values():
            copy_centres, copy_descriptors = read(analyzer, embedder, copy)
            assert len(copy_descriptors) == len(descriptors), name
            for centre, descriptor in zip(copy_centres, copy_descriptors, strict=True):
                original = np.argmin(np.linalg.norm(centres - (a * centre + b), axis=1))
                same[name].append(float(np.linalg.norm(descriptors[original] - descriptor)))
    return different, same


def test_numpy_net_reproduces_face_api(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    net = FaceRecognitionNet(
        load_shard(
            fetch("face-recognition-weights", settings),
            fetch("face-recognition-manifest", settings),
        )
    )
    chips = np.stack(
        [
            np.asarray(
                Image.fromarray(load_image(face_media(name)))
                .crop(box)
                .resize((150, 150), Image.Resampling.BILINEAR)
            )
            for name, box in FACE_API_CROPS.items()
        ]
    )
    descriptors = net(chips)
    for descriptor, (head, norm) in zip(descriptors, FACE_API_REFERENCE.values(), strict=True):
        np.testing.assert_allclose(descriptor[:6], head, atol=1e-4)
        assert float(np.linalg.norm(descriptor)) == pytest.approx(norm, abs=1e-4)


def test_same_face_in_copies_is_closer_than_any_two_people(
    group_distances: tuple[dict[str, list[float]], dict[str, list[float]]],
) -> None:
    different, same = group_distances
    all_different = np.concatenate(list(different.values()))
    all_same = np.concatenate(list(same.values()))
    # Measured: same face 0.01-0.40 (mirrored copies the farthest), different people 0.55-0.90.
    assert all_same.max() < SAME_PERSON
    assert all_same.max() < all_different.min()
    assert np.median(all_same) < 0.1
    # dlib's rule is not perfect: 88 % of the 41 pairs of different people are beyond 0.6.
    assert np.mean(all_different > SAME_PERSON) >= 0.8
    assert all_different.min() > 0.5


def test_one_person_through_a_video(analyzer: FaceAnalyzer, embedder: FaceEmbedder) -> None:
    # A woman crying behind her hands, then laughing: expression, occlusion and head turns.
    descriptors = []
    for frame in iter_frames(face_media("wolfgang.mp4"), fps_pred=1):
        descriptors.append(read(analyzer, embedder, frame.image)[1])
    assert all(len(d) == 1 for d in descriptors)
    track = np.concatenate(descriptors)
    mean = track.mean(axis=0)
    # Measured at 2 frames/s: 0.20-0.44 from the mean; any two frames 0.63 apart at most.
    assert np.linalg.norm(track - mean, axis=1).max() < 0.5
    assert np.linalg.norm(np.diff(track, axis=0), axis=1).max() < SAME_PERSON
    pairs = [np.linalg.norm(a - b) for a, b in combinations(track, 2)]
    assert np.mean(np.array(pairs) < SAME_PERSON) > 0.95


def test_batch_matches_one_by_one_and_edges(analyzer: FaceAnalyzer, embedder: FaceEmbedder) -> None:
    image = load_image(face_media("multi_face.jpg"))
    meshes = [f.mesh.landmarks for f in analyzer.read(image)]
    batch = embedder.embed(image, meshes)
    for mesh, descriptor in zip(meshes, batch, strict=True):
        np.testing.assert_allclose(embedder.embed(image, [mesh])[0], descriptor, atol=1e-5)
    assert embedder.embed(image, []).shape == (0, 128)
    # A face half off the left edge: the chip is black there, the descriptor still finite.
    half_out = meshes[0] - np.array([meshes[0][:, 0].mean(), 0, 0], dtype=np.float32)
    chip = embedder.chips(image, [half_out])[0]
    assert chip[:, :40].max() == 0
    assert np.isfinite(embedder.embed(image, [half_out])).all()
