"""FaceMesh V2 landmarks, blendshapes and head pose on real, labelled faces.

The detections are MediaPipe's own (BlazeFace short-range via its Tasks API, rounded to whole
pixels), so these tests check the mesh stage alone, whatever the detector module does.
"""

from __future__ import annotations

import math
import zipfile

import numpy as np
import pytest
from PIL import Image

from mien.media.image import load_image
from mien.models.face.canonical import parse_geometry_metadata
from mien.models.face.detect import Detection, FaceDetector
from mien.models.face.mesh import BLENDSHAPE_NAMES, FaceMesh, FaceMesher
from mien.settings import Settings
from mien.weights import fetch
from tests.conftest import WEIGHTS_CACHE
from tests.face_media import face_media

_DETECTIONS = {  # box, then keypoints: right eye, left eye, nose, mouth, right ear, left ear
    "surprise.jpg": (
        (112, 183, 296, 296),
        [(199, 240), (334, 244), (270, 290), (265, 372), (121, 292), (397, 299)],
    ),
    "happy.jpg": (
        (103, 174, 301, 301),
        [(194, 257), (322, 265), (255, 337), (250, 397), (124, 276), (385, 293)],
    ),
    "anger.jpg": (
        (96, 190, 297, 297),
        [(162, 267), (291, 265), (211, 330), (219, 399), (121, 304), (383, 303)],
    ),
    "disgust.jpg": (
        (62, 201, 271, 271),
        [(100, 270), (185, 279), (81, 332), (100, 393), (130, 299), (328, 323)],
    ),
    "single_face.jpg": (
        (184, 197, 199, 199),
        [(232, 253), (314, 247), (268, 297), (274, 339), (200, 276), (372, 266)],
    ),
}
_MULTI_FACE = [  # three of multi_face.jpg's five faces; MediaPipe's middle box sits too low
    ((192, 44, 160, 160), [(253, 93), (307, 105), (276, 136), (268, 161), (216, 88), (336, 111)]),
    (
        (674, 334, 155, 155),
        [(727, 381), (777, 383), (752, 412), (752, 442), (696, 396), (812, 397)],
    ),
    (
        (510, 306, 151, 151),
        [(562, 349), (614, 364), (576, 394), (568, 419), (529, 342), (652, 376)],
    ),
]


def _detection(box: tuple[int, int, int, int], keypoints: list[tuple[int, int]]) -> Detection:
    x, y, w, h = box
    return Detection((float(x), float(y), float(w), float(h)), 0.9, np.array(keypoints, np.float32))


@pytest.fixture(scope="module")
def mesher() -> FaceMesher:
    return FaceMesher(Settings(cache_dir=WEIGHTS_CACHE))


@pytest.fixture(scope="module")
def faces(mesher: FaceMesher) -> dict[str, FaceMesh]:
    out = {}
    for name, (box, keypoints) in _DETECTIONS.items():
        image = load_image(face_media(name))
        [out[name]] = mesher.mesh(image, [_detection(box, keypoints)])
    return out


def _score(face: FaceMesh, name: str) -> float:
    return float(face.blendshapes[BLENDSHAPE_NAMES.index(name)])


def test_expressions_move_the_right_blendshapes(faces: dict[str, FaceMesh]) -> None:
    happy, anger, surprise = faces["happy.jpg"], faces["anger.jpg"], faces["surprise.jpg"]
    for side in ("mouthSmileLeft", "mouthSmileRight"):
        assert _score(happy, side) > 0.5
        assert _score(happy, side) > _score(anger, side) + 0.3
    for name in ("jawOpen", "browInnerUp"):  # MediaPipe: 0.52 and 0.48 vs 0.04 and 0.05
        assert _score(surprise, name) > _score(happy, name) + 0.3, name
    assert _score(surprise, "browOuterUpLeft") > _score(happy, "browOuterUpLeft")
    for side in ("browDownLeft", "browDownRight"):  # MediaPipe: 0.4 on anger, 0 on surprise
        assert _score(anger, side) > _score(surprise, side) + 0.2
    for face in faces.values():
        assert face.blendshapes.shape == (len(BLENDSHAPE_NAMES),) == (52,)
        assert face.blendshapes.min() >= 0.0 and face.blendshapes.max() <= 1.0
        assert face.presence > 0.95


def test_landmarks_cover_the_detected_face(faces: dict[str, FaceMesh]) -> None:
    for name, face in faces.items():
        (x, y, w, h), keypoints = _DETECTIONS[name]
        assert face.landmarks.shape == (478, 3) and face.landmarks.dtype == np.float32
        bx, by, bw, bh = face.box
        assert bh > bw  # a face is taller than wide
        assert x - 0.25 * w < bx and bx + bw < x + 1.25 * w, name  # inside the 1.5x crop
        assert y - 0.25 * h < by and by + bh < y + 1.25 * h, name
        assert 0.6 * w < bw < 1.2 * w
        # The mesh's eye centres (iris landmarks 468, 473) sit on the detector's eye keypoints.
        eyes = face.landmarks[[468, 473], :2]
        assert np.abs(eyes - np.array(keypoints[:2])).max() < 0.12 * w, name


def test_batched_faces_match_one_at_a_time(mesher: FaceMesher) -> None:
    image = load_image(face_media("multi_face.jpg"))
    detections = [_detection(box, keypoints) for box, keypoints in _MULTI_FACE]
    batched = mesher.mesh(image, detections)
    assert len(batched) == 3
    for face, detection in zip(batched, detections, strict=True):
        [alone] = mesher.mesh(image, [detection])
        np.testing.assert_allclose(face.landmarks, alone.landmarks, atol=0.05)
        np.testing.assert_allclose(face.blendshapes, alone.blendshapes, atol=1e-3)
    assert mesher.mesh(image, []) == []


def test_meshes_every_face_the_detector_finds(mesher: FaceMesher) -> None:
    image = load_image(face_media("multi_face.jpg"))
    detections = FaceDetector(Settings(cache_dir=WEIGHTS_CACHE)).detect(image)
    meshes = mesher.mesh(image, detections)
    assert len(meshes) == len(detections) >= 5
    for face, detection in zip(meshes, detections, strict=True):
        x, y, w, h = detection.box
        centre = np.array(face.box[:2]) + np.array(face.box[2:]) / 2
        assert face.presence > 0.9
        assert np.abs(centre - (x + w / 2, y + h / 2)).max() < 0.2 * w


def test_no_face_has_low_presence(mesher: FaceMesher) -> None:
    image = load_image(face_media("no_face.jpg"))
    [face] = mesher.mesh(image, [_detection(*_DETECTIONS["happy.jpg"])])
    assert face.presence < 0.5


def test_normalised_and_pixel_landmarks_give_the_same_blendshapes(mesher: FaceMesher) -> None:
    image = load_image(face_media("multi_face.jpg"))  # 1000 x 667: not square
    height, width = image.shape[:2]
    pixels = np.stack([f.landmarks for f in mesher.mesh(image, [_detection(*_MULTI_FACE[2])])])
    normalised = pixels / np.array([width, height, width], np.float32)
    from_pixels = mesher.blendshapes(pixels)
    np.testing.assert_allclose(
        from_pixels, mesher.blendshapes(normalised, (width, height)), atol=1e-3
    )
    np.testing.assert_allclose(from_pixels, mesher.blendshapes(pixels * 3.0 + 250.0), atol=1e-3)
    # Without the image size, a non-square image's normalised points squash the face.
    assert np.abs(from_pixels - mesher.blendshapes(normalised)).max() > 0.05


def test_frontal_head_pose_is_near_zero(mesher: FaceMesher, faces: dict[str, FaceMesh]) -> None:
    for name in ("surprise.jpg", "happy.jpg", "single_face.jpg"):
        yaw, pitch, roll = faces[name].pose
        assert abs(yaw) < 10 and abs(pitch) < 12 and abs(roll) < 5, name
    np.testing.assert_allclose(
        mesher.head_pose(faces["happy.jpg"].landmarks), faces["happy.jpg"].pose, atol=1e-3
    )


def test_mirrored_head_turns_the_other_way(mesher: FaceMesher, faces: dict[str, FaceMesh]) -> None:
    image = load_image(face_media("disgust.jpg"))
    width = image.shape[1]
    (x, y, w, h), keypoints = _DETECTIONS["disgust.jpg"]
    mirrored = [(width - px, py) for px, py in keypoints]
    mirrored = [mirrored[i] for i in (1, 0, 2, 3, 5, 4)]  # subject's right and left swap
    [flipped] = mesher.mesh(image[:, ::-1].copy(), [_detection((width - x - w, y, w, h), mirrored)])
    yaw, _, roll = faces["disgust.jpg"].pose
    assert abs(yaw) > 25  # the disgust face is turned
    assert flipped.pose[0] == pytest.approx(-yaw, abs=5)
    assert flipped.pose[2] == pytest.approx(-roll, abs=3)


def test_rotating_the_image_changes_roll(mesher: FaceMesher, faces: dict[str, FaceMesh]) -> None:
    image = load_image(face_media("happy.jpg"))
    turned = np.asarray(Image.fromarray(image).rotate(20, resample=Image.Resampling.BILINEAR))
    (x, y, w, h), keypoints = _DETECTIONS["happy.jpg"]
    centre = np.array([image.shape[1], image.shape[0]]) / 2
    angle = math.radians(20)  # counter-clockwise on screen, where y points down
    rotation = np.array([[math.cos(angle), math.sin(angle)], [-math.sin(angle), math.cos(angle)]])
    points = (np.array(keypoints, np.float64) - centre) @ rotation.T + centre
    box_centre = (np.array([x + w / 2, y + h / 2]) - centre) @ rotation.T + centre
    box = (*(box_centre - w / 2).round().astype(int).tolist(), w, h)
    [rotated] = mesher.mesh(turned, [_detection(box, points.round().astype(int).tolist())])
    assert rotated.pose[2] - faces["happy.jpg"].pose[2] == pytest.approx(20, abs=3)
    assert rotated.pose[0] == pytest.approx(faces["happy.jpg"].pose[0], abs=4)
    assert _score(rotated, "mouthSmileLeft") > 0.5  # the crop was levelled before the model


@pytest.mark.parametrize(
    ("axis", "expected"),
    [(1, (30.0, 0.0, 0.0)), (0, (0.0, 20.0, 0.0)), (2, (0.0, 0.0, 15.0))],
)
def test_pose_sign_convention(
    mesher: FaceMesher, axis: int, expected: tuple[float, float, float]
) -> None:
    """Turn MediaPipe's canonical face by a known angle and read the angle back."""
    settings = Settings(cache_dir=WEIGHTS_CACHE)
    with zipfile.ZipFile(fetch("face-landmarker", settings)) as task:
        face = parse_geometry_metadata(task.read("geometry_pipeline_metadata_landmarks.binarypb"))
    # y up / z to the viewer: yaw turns the nose to +x (image right), pitch lifts it to +y,
    # roll turns the face counter-clockwise.
    angle = math.radians(-expected[1] if axis == 0 else sum(expected))
    c, s = math.cos(angle), math.sin(angle)
    a, b = [i for i in range(3) if i != axis]
    turn = np.eye(3)
    turn[a, a], turn[a, b], turn[b, a], turn[b, b] = c, -s, s, c
    if axis == 1:  # about y the right-handed order is z -> x
        turn = turn.T
    vertices = face.vertices @ turn.T
    image = np.zeros((478, 3))
    image[:468] = vertices * np.array([1.0, -1.0, -1.0]) * 20.0 + np.array([300.0, 200.0, 0.0])
    np.testing.assert_allclose(mesher.head_pose(image), expected, atol=0.5)
