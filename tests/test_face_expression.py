"""The two 7-class expression nets and their mean, on real posed and group photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mien.media.image import load_image
from mien.models.face.expression import EXPRESSIONS, ExpressionNets, FaceExpressionNet
from mien.weights import fetch
from tests.conftest import make_settings
from tests.face_media import face_media

# Hand-measured tight face boxes (x, y, w, h): forehead to chin, cheek to cheek.
HAPPY = (105, 120, 265, 330)
SURPRISE = (125, 120, 275, 350)
ASTRONAUT = (180, 68, 90, 115)
GROUP = [  # multi_face.jpg: four broad smiles and a faint closed-mouth one (the boy at the back)
    (212, 65, 98, 120),
    (314, 238, 98, 135),
    (437, 215, 88, 115),
    (530, 312, 105, 128),
    (680, 288, 108, 132),
]

# face-api 1.7.15's own FaceExpressionNet (Node 20, @tensorflow/tfjs 4.22.0, wasm backend,
# faceExpressionNet.predictExpressions on a tf.tensor3d of the crop below), in EXPRESSIONS order.
FACE_API_REFERENCE = [
    0.0010421940824016929,
    1.0679643835942443e-09,
    0.9775091409683228,
    0.021448204293847084,
    1.6156789794941062e-10,
    1.0065017619353966e-07,
    3.4570885532048123e-07,
]


@pytest.fixture(scope="module")
def nets(tmp_path_factory: pytest.TempPathFactory) -> ExpressionNets:
    return ExpressionNets(make_settings(tmp_path_factory.mktemp("home")))


def top(probs: np.ndarray) -> str:
    return EXPRESSIONS[int(np.argmax(probs))]


@pytest.mark.parametrize(
    ("name", "box", "expected"),
    [("happy.jpg", HAPPY, "happy"), ("astronaut.png", ASTRONAUT, "happy"),
     ("surprise.jpg", SURPRISE, "surprised")],
)  # fmt: skip
def test_posed_expressions_win(
    nets: ExpressionNets, name: str, box: tuple[int, int, int, int], expected: str
) -> None:
    image = load_image(face_media(name))
    probs = nets.predict(image, [box])
    assert probs.shape == (1, 7)
    assert top(probs[0]) == expected
    assert probs[0].sum() == pytest.approx(1, abs=1e-5)
    each = nets.predict_each(image, [box])
    assert each.keys() == {"face-api", "mini-xception"}
    np.testing.assert_allclose((each["face-api"] + each["mini-xception"]) / 2, probs)


def test_group_photo_batch_matches_one_by_one(nets: ExpressionNets) -> None:
    image = load_image(face_media("multi_face.jpg"))
    batch = nets.predict_each(image, GROUP[:3])
    for i, box in enumerate(GROUP[:3]):
        alone = nets.predict_each(image, [box])
        for net, probs in batch.items():
            np.testing.assert_allclose(probs[i], alone[net][0], atol=1e-5)
    probs = nets.predict(image, GROUP)
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert [top(p) for p in probs] == ["happy"] * 5
    assert int(np.argmin(probs[:, EXPRESSIONS.index("happy")])) == 2


def test_face_off_the_edge_and_no_faces(nets: ExpressionNets) -> None:
    image = load_image(face_media("happy.jpg"))
    half_out = nets.predict(image, [(-150, 120, 265, 330)])  # the crop is padded, not shifted
    assert half_out.shape == (1, 7)
    assert np.isfinite(half_out).all()
    assert nets.predict(image, []).shape == (0, 7)


def test_numpy_net_reproduces_face_api(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    net = FaceExpressionNet(
        fetch("face-expression-weights", settings), fetch("face-expression-manifest", settings)
    )
    image = Image.fromarray(load_image(face_media("anger.jpg")))
    crop = image.crop((73, 170, 413, 510)).resize((112, 112), Image.Resampling.BILINEAR)
    probs = net(np.asarray(crop)[None])
    np.testing.assert_allclose(probs[0], FACE_API_REFERENCE, atol=1e-3)
    assert top(probs[0]) == "sad"  # posed anger: face-api's usual miss
