"""The numpy port of the toxic-comment-classifier BiLSTM, on its real weights."""

from __future__ import annotations

import collections
import pickle
from pathlib import Path

import numpy as np
import pytest

from mien.errors import ModelError
from mien.models.toxicity import ToxicityModel, _Tokenizer
from mien.taxonomy import TOXICITY_LABELS
from tests.conftest import make_settings

INSULT = "You are so dumb and stupid!"
FRIENDLY = "Have a great day, thanks for the help"
THREAT = "I will kill you"


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> ToxicityModel:
    return ToxicityModel(make_settings(tmp_path_factory.mktemp("toxicity") / "home"))


def scores_of(model: ToxicityModel, text: str) -> dict[str, float]:
    return dict(zip(TOXICITY_LABELS, model.scores([text])[0].tolist(), strict=True))


def test_reproduces_the_packages_published_example(model: ToxicityModel) -> None:
    # The package README's output for INSULT, from TensorFlow with the same weights.
    published = [0.98894, 0.07257, 0.62043, 0.01935, 0.86641, 0.04073]
    np.testing.assert_allclose(model.scores([INSULT])[0], published, atol=1e-4)


def test_an_insult_is_toxic_and_insulting_not_threatening(model: ToxicityModel) -> None:
    scores = scores_of(model, INSULT)
    assert scores["toxic"] > 0.5 and scores["insult"] > 0.5
    assert sorted(scores, key=scores.__getitem__, reverse=True)[:3] == [
        "toxic",
        "insult",
        "obscene",
    ]
    assert scores["threat"] < 0.1


def test_a_friendly_sentence_scores_low_everywhere(model: ToxicityModel) -> None:
    assert max(scores_of(model, FRIENDLY).values()) < 0.2


def test_a_threat_scores_threat_above_a_friendly_sentence(model: ToxicityModel) -> None:
    threat, friendly = scores_of(model, THREAT), scores_of(model, FRIENDLY)
    assert threat["threat"] > 10 * friendly["threat"]
    assert threat["toxic"] > 0.5


def test_batch_equals_one_at_a_time(model: ToxicityModel) -> None:
    texts = [INSULT, "", FRIENDLY, THREAT, "word " * 150, "Go away.", "¡Qué día tan bonito!"]
    batch = model.scores(texts)
    assert batch.dtype == np.float32 and batch.shape == (len(texts), len(TOXICITY_LABELS))
    single = np.concatenate([model.scores([text]) for text in texts])
    np.testing.assert_allclose(batch, single, atol=1e-6)


def test_empty_inputs(model: ToxicityModel) -> None:
    assert model.scores([]).shape == (0, len(TOXICITY_LABELS))
    empty = model.scores(["", "   ", "?!"])  # no words at all: 100 pad ids each
    np.testing.assert_allclose(empty, np.repeat(empty[:1], 3, axis=0), atol=1e-6)
    assert ((empty >= 0) & (empty < 0.2)).all()


def test_tokenisation_follows_keras(model: ToxicityModel) -> None:
    # Lowercased; the Keras filter characters split words like spaces do.
    np.testing.assert_allclose(
        model.scores(["YOU ARE SO DUMB AND STUPID!!!"]),
        model.scores(["you are so dumb (and) stupid"]),
        atol=1e-6,
    )
    # Only the last 100 known words count (truncating="pre").
    tail = "thank you " * 50
    np.testing.assert_allclose(
        model.scores(["idiot moron " + tail]), model.scores([tail]), atol=1e-6
    )


def test_the_tokenizer_pickle_may_name_nothing_else(tmp_path: Path) -> None:
    bad = tmp_path / "tokenizer.pickle"
    bad.write_bytes(pickle.dumps(collections.Counter(["a"])))
    with pytest.raises(ModelError, match="refusing to load collections.Counter"):
        _Tokenizer.load(bad)
