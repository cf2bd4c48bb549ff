"""MediaPipe Hands on real photos, and v0's hand items on real hands pasted over a real face.

The composites cut a real hand (fingerpose's photos, on a plain wall: skin is told from the wall
by its colour) with its forearm and paste it over happy.jpg; the face mesh is measured on the
composite itself, as the face pipeline would.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest
from PIL import Image, ImageFilter

from mien.media.image import load_image
from mien.models.face.detect import FaceDetector
from mien.models.face.hands import HAND_ITEMS, Hand, HandFinder, face_in_hands, hand_items
from mien.models.face.mesh import FaceMesher
from tests.conftest import make_settings
from tests.face_media import face_media

HAND_PHOTOS = ["hand_fist.jpg", "hand_half.jpg", "hand_point.jpg"]
MOUTH, EYES, FOREHEAD, FACE, TOUCH = range(len(HAND_ITEMS))


@dataclass(frozen=True)
class Models:
    hands: HandFinder
    detector: FaceDetector
    mesher: FaceMesher

    def face(self, image: np.ndarray) -> np.ndarray:
        """(n, 478, 3) mesh landmarks of every face found in ``image``."""
        meshes = self.mesher.mesh(image, self.detector.detect(image, min_prob=0.6))
        return np.stack([mesh.landmarks for mesh in meshes])


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    settings = make_settings(tmp_path_factory.mktemp("home"))
    return Models(HandFinder(settings), FaceDetector(settings), FaceMesher(settings))


@cache
def image(name: str) -> np.ndarray:
    return load_image(face_media(name))


def skin(pixels: np.ndarray) -> np.ndarray:
    """Skin against fingerpose's grey-beige wall: red well above blue."""
    rgb = pixels.astype(np.int32)
    return np.asarray(rgb[..., 0] - rgb[..., 2] > 0.3 * np.maximum(rgb[..., 0], 1))


@pytest.mark.parametrize("name", HAND_PHOTOS)
def test_finds_the_hand_on_its_skin(models: Models, name: str) -> None:
    hands = models.hands.find(image(name))
    assert len(hands) == 1
    hand = hands[0]
    assert hand.presence > 0.9
    x, y = np.round(hand.landmarks[:, :2]).astype(int).T
    assert skin(image(name))[y, x].mean() >= 0.85  # the points lie on the hand, not the wall


def test_pointing_finger_is_the_top_of_the_hand(models: Models) -> None:
    points = models.hands.find(image("hand_point.jpg"))[0].landmarks
    tips = points[[4, 8, 12, 16, 20], 1]  # y of the thumb, index, middle, ring, little tips
    assert points[8, 1] == points[:, 1].min()
    assert np.sort(tips)[1] - tips[1] > 0.5 * np.linalg.norm(points[9, :2] - points[0, :2])


@pytest.mark.parametrize("name", ["happy.jpg", "surprise.jpg", "no_face.jpg", "astronaut.png"])
def test_no_hands(models: Models, name: str) -> None:
    assert models.hands.find(image(name)) == []


def test_hand_away_from_faces_scores_low(models: Models) -> None:
    """multi_face.jpg: one real hand, on a man's chest, below every face."""
    photo = image("multi_face.jpg")
    hands = models.hands.find(photo)
    assert len(hands) == 1
    scores = hand_items(hands, models.face(photo))
    assert scores.shape == (5, 5)
    assert scores.max() < 0.1


def test_fingertip_at_the_lips_of_a_profile(models: Models) -> None:
    """group2.jpg: the left woman holds a fingertip to her lips (face in profile)."""
    photo = image("group2.jpg")
    hands, faces = models.hands.find(photo), models.face(photo)
    scores = hand_items(hands, faces)
    woman = int(np.argmin(faces[:, :, 0].mean(axis=1)))
    assert 0.3 < scores[woman, MOUTH] < 0.7
    assert scores[woman, TOUCH] > 0.3
    assert scores[woman, [EYES, FOREHEAD, FACE]].max() < 0.05
    others = np.delete(scores, woman, axis=0)
    assert others.max() < 0.05


def cut_hand(models: Models, name: str) -> tuple[Image.Image, Image.Image]:
    """The hand and forearm of a fingerpose photo, and its skin mask."""
    photo = image(name)
    points = models.hands.find(photo)[0].landmarks[:, :2]
    (x0, y0), x1 = points.min(axis=0), points[:, 0].max()
    margin = 0.15 * (x1 - x0)
    box = (int(x0 - margin), int(y0 - margin), int(x1 + margin), photo.shape[0])
    pixels = np.ascontiguousarray(photo[box[1] : box[3], box[0] : box[2]])
    mask = Image.fromarray(skin(pixels).astype(np.uint8) * 255)
    mask = mask.filter(ImageFilter.MedianFilter(5)).filter(ImageFilter.GaussianBlur(2))
    return Image.fromarray(pixels), mask


def paste(
    models: Models, name: str, at: tuple[float, float], width: float, angle: float
) -> np.ndarray:
    """happy.jpg with a real hand ``width`` px wide, turned by ``angle`` degrees, centred ``at``."""
    hand, mask = cut_hand(models, name)
    scale = width / hand.width
    hand, mask = (im.rotate(angle, expand=True) for im in (hand, mask))
    size = (round(hand.width * scale), round(hand.height * scale))
    face = Image.fromarray(image("happy.jpg"))
    corner = (round(at[0] - size[0] / 2), round(at[1] - size[1] / 2))
    face.paste(hand.resize(size), corner, mask.resize(size))
    return np.asarray(face)


COMPOSITES = {  # item: (hand photo, centre on happy.jpg, hand width, turn in degrees)
    MOUTH: ("hand_point.jpg", (250, 420), 160, -45),
    EYES: ("hand_point.jpg", (194, 257), 160, -45),
    FOREHEAD: ("hand_point.jpg", (255, 170), 160, -90),
    TOUCH: ("hand_fist.jpg", (400, 360), 160, 45),
}


@pytest.mark.parametrize("item", list(COMPOSITES), ids=[HAND_ITEMS[i] for i in COMPOSITES])
def test_pasted_hand_scores_its_item(models: Models, item: int) -> None:
    name, at, width, angle = COMPOSITES[item]
    composite = paste(models, name, at, width, angle)
    hands = models.hands.find(composite)
    assert len(hands) == 1
    scores = hand_items(hands, models.face(composite))[0]
    assert scores[item] > 0.9
    assert np.delete(scores, item).max() < 0.25
    assert face_in_hands(hands, models.face(composite))[0] == 0.0


def test_plain_face_scores_nothing(models: Models) -> None:
    photo = image("happy.jpg")
    assert hand_items(models.hands.find(photo), models.face(photo)).max() == 0.0


def placed(hand: Hand, centre: np.ndarray, height: float) -> Hand:
    """``hand`` moved and scaled so its palm is ``height`` px tall and centred on ``centre``."""
    points = hand.landmarks.astype(np.float64)
    palm = points[[0, 5, 9, 13, 17], :2].mean(axis=0)
    scale = height / np.linalg.norm(points[9, :2] - points[0, :2])
    moved = points.copy()
    moved[:, :2] = (points[:, :2] - palm) * scale + centre
    return Hand(moved.astype(np.float32), hand.presence, hand.handedness)


def test_face_in_hands_needs_both_hands_on_the_face(models: Models) -> None:
    """The real fist's landmarks, placed over each cheek of happy.jpg's mesh."""
    face = models.face(image("happy.jpg"))
    fist = models.hands.find(image("hand_fist.jpg"))[0]
    left, right = face[0, 234, :2], face[0, 454, :2]  # the cheeks' outer edge
    height = float(np.linalg.norm(face[0, 10, :2] - face[0, 152, :2]))
    cheeks = [placed(fist, left + 0.3 * (right - left), 0.45 * height),
              placed(fist, right + 0.3 * (left - right), 0.45 * height)]  # fmt: skip
    assert face_in_hands(cheeks, face)[0] > 0.8
    assert hand_items(cheeks, face)[0, FACE] > 0.5
    assert face_in_hands(cheeks[:1], face)[0] == 0.0
    far = [placed(fist, left - (2.0 * height, 0.0), 0.45 * height), cheeks[1]]
    assert face_in_hands(far, face)[0] == 0.0


def test_batch_matches_one_by_one(models: Models) -> None:
    photos = [image("group2.jpg"), image("happy.jpg"), image("hand_half.jpg")]
    batched = models.hands.find_batch(photos)
    for photo, hands in zip(photos, batched, strict=True):
        alone = models.hands.find(photo)
        assert len(hands) == len(alone)
        for a, b in zip(hands, alone, strict=True):
            assert np.abs(a.landmarks - b.landmarks).max() < 1.0
    assert [len(hands) for hands in batched] == [3, 0, 1]
