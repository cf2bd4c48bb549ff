"""Jigsaw toxicity scores from the BiLSTM of ``toxic-comment-classifier`` 0.3.0, run in numpy.

The package ships a Keras 3 weights file and a pickled legacy Keras ``Tokenizer`` and needs
TensorFlow to use them. We read both (fetched as pinned artifacts by :mod:`mien.weights`) and
re-implement inference exactly as the package runs it:

* tokenise: lowercase, map each of the tokenizer's ``filters`` characters to a space, split on
  ``" "``, drop empty strings, keep words whose rank is below ``num_words`` (20,000) and drop the
  rest (there is no OOV token); keep the last 100 ids and left-pad with id 0 (Keras
  ``pad_sequences`` defaults, ``padding="pre"``, ``truncating="pre"``).
* network: frozen random embedding 20,000x50 (row 0, the pad id, is an ordinary row and nothing
  is masked) -> bidirectional LSTM, 50 units each way, sigmoid gates, tanh cell -> max over the
  100 time steps of both directions (100-d) -> dense 50 ReLU -> dense 6 sigmoid.

Shortcuts that keep it exact (within float32 rounding of TensorFlow's output) but cheaper than
100 steps each way: every id's input projection is looked up, not multiplied; the forward pass
over the leading pad ids is the same for every text, so its states and running maximum are
computed once; a batch is only padded to its longest text, and the backward pass then finishes
the remaining pad steps with a constant input.
"""

from __future__ import annotations

import collections
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import h5py
import numpy as np
import numpy.typing as npt

from mien.errors import ModelError
from mien.settings import Settings
from mien.taxonomy import TOXICITY_LABELS
from mien.weights import fetch

__all__ = ["ToxicityModel"]

MAXLEN: Final = 100
"""Ids per text the network sees (the package's ``MAXLEN``)."""
UNITS: Final = 50
"""LSTM units per direction."""
BATCH_SIZE: Final = 256
_SINGLE_THREAD_GEMM: Final = 262_144
"""Largest m*n*k that OpenBLAS runs on one thread (see :func:`_matmul_rows`)."""

_Floats = npt.NDArray[np.float32]
_Ids = npt.NDArray[np.int64]

# sigmoid(x) = 0.5 * tanh(x / 2) + 0.5: with the input, forget and output gate columns of the
# LSTM weights halved up front, one tanh over all four gates (Keras order i, f, c, o) gives every
# activation, and no exp can overflow. Halving a float is exact.
_GATE_SCALE: Final = np.repeat(np.array([0.5, 0.5, 1.0, 0.5], np.float32), UNITS)
_GATE_SHIFT: Final = np.repeat(np.array([0.5, 0.5, 0.0, 0.5], np.float32), UNITS)


class ToxicityModel:
    """Six Jigsaw toxicity probabilities per text, in :data:`mien.taxonomy.TOXICITY_LABELS` order.

    Stateless after loading, so one instance can serve several threads.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        """Fetch the pinned weights and tokenizer and load them once (about 0.3 s)."""
        settings = settings or Settings()
        self._tokenizer = _Tokenizer.load(fetch("toxicity-tokenizer", settings))
        self._network = _Network.load(fetch("toxicity-bilstm", settings))

    def scores(self, texts: Sequence[str]) -> _Floats:
        """Score texts; returns float32 ``(len(texts), 6)``, each value in [0, 1].

        Texts are batched by token count so each batch is padded only to its longest text.
        """
        out = np.empty((len(texts), len(TOXICITY_LABELS)), dtype=np.float32)
        encoded = [self._tokenizer.encode(text) for text in texts]
        order = np.argsort([len(ids) for ids in encoded], kind="stable")
        for start in range(0, len(order), BATCH_SIZE):
            rows = order[start : start + BATCH_SIZE]
            out[rows] = self._network.forward(_pad([encoded[i] for i in rows]))
        return out


@dataclass(frozen=True)
class _Tokenizer:
    """What inference needs of the pickled Keras tokenizer."""

    vocabulary: dict[str, int]
    """Word -> id, only the ids the network knows (1 to ``num_words - 1``)."""
    filters: dict[int, str]
    """``str.translate`` table mapping every filter character to ``split``."""
    split: str
    lower: bool

    @classmethod
    def load(cls, path: Path) -> _Tokenizer:
        """Unpickle with an allow-list: only the tokenizer and the containers it holds."""
        try:
            with path.open("rb") as file:
                state = _TokenizerUnpickler(file).load()
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            raise ModelError(f"cannot read the toxicity tokenizer {path}: {exc}") from exc
        if not isinstance(state, _PickledTokenizer):
            raise ModelError(f"{path} does not hold a Keras Tokenizer")
        config = state.state
        num_words = config.get("num_words")
        word_index = config.get("word_index")
        unsupported = {
            key: config.get(key)
            for key in ("char_level", "oov_token", "analyzer")
            if config.get(key) not in (None, False)
        }
        if unsupported or not isinstance(num_words, int) or not isinstance(word_index, dict):
            raise ModelError(f"unexpected Keras Tokenizer configuration in {path}: {unsupported}")
        split, filters = str(config["split"]), str(config["filters"])
        return cls(
            vocabulary={
                word: index
                for word, index in word_index.items()
                if isinstance(index, int) and 0 < index < num_words
            },
            filters=str.maketrans(dict.fromkeys(filters, split)),
            split=split,
            lower=bool(config["lower"]),
        )

    def encode(self, text: str) -> list[int]:
        """The last :data:`MAXLEN` known word ids of ``text`` (Keras ``texts_to_sequences``)."""
        if self.lower:
            text = text.lower()
        words = text.translate(self.filters).split(self.split)
        ids = [index for word in words if (index := self.vocabulary.get(word)) is not None]
        return ids[-MAXLEN:]


class _PickledTokenizer:
    """Stand-in for ``keras.src.legacy.preprocessing.text.Tokenizer``: keeps the pickled state."""

    state: dict[str, Any]

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.state = state


class _TokenizerUnpickler(pickle.Unpickler):
    """Resolves only the four globals the tokenizer pickle names; anything else is refused."""

    _ALLOWED: Final[dict[tuple[str, str], type]] = {
        ("keras.src.legacy.preprocessing.text", "Tokenizer"): _PickledTokenizer,
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("collections", "defaultdict"): collections.defaultdict,
        ("builtins", "int"): int,
    }

    def find_class(self, module: str, name: str) -> type:
        """Return the allowed stand-in or container for ``module.name``."""
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}") from None


@dataclass(frozen=True)
class _Network:
    """The BiLSTM's weights, gate columns pre-scaled, and the shared forward pad prefix."""

    projection: _Floats  # (vocab, 2, 200): embedding @ kernel + bias, forward and backward
    recurrent: _Floats  # (2, 50, 200)
    dense: _Floats  # (100, 50)
    dense_bias: _Floats  # (50,)
    head: _Floats  # (50, 6), halved for the tanh form of the sigmoid
    head_bias: _Floats  # (6,), halved
    pad_h: _Floats  # (MAXLEN + 1, 50): forward state after k pad ids
    pad_c: _Floats  # (MAXLEN + 1, 50)
    pad_max: _Floats  # (MAXLEN + 1, 50): running max of the forward outputs over those k steps

    def __post_init__(self) -> None:
        """Freeze the arrays: threads share one network."""
        for array in vars(self).values():
            array.flags.writeable = False

    @classmethod
    def load(cls, path: Path) -> _Network:
        """Read a Keras 3 ``.weights.h5`` file of the package's architecture."""
        try:
            with h5py.File(path, "r") as file:

                def var(layer: str, index: int) -> _Floats:
                    return np.asarray(file[f"layers/{layer}/vars/{index}"], dtype=np.float32)

                cells = [f"bidirectional/{side}_layer/cell" for side in ("forward", "backward")]
                embedding = var("embedding", 0)
                kernel = np.stack([var(cell, 0) for cell in cells], axis=1) * _GATE_SCALE
                recurrent = np.stack([var(cell, 1) for cell in cells]) * _GATE_SCALE
                bias = np.stack([var(cell, 2) for cell in cells]) * _GATE_SCALE
                dense, dense_bias = var("dense", 0), var("dense", 1)
                head, head_bias = var("dense_1", 0) * 0.5, var("dense_1", 1) * 0.5
        except (OSError, KeyError) as exc:
            raise ModelError(f"cannot read the toxicity weights {path}: {exc}") from exc
        expected = {
            "kernel": (kernel.shape, (embedding.shape[1], 2, 4 * UNITS)),
            "recurrent": (recurrent.shape, (2, UNITS, 4 * UNITS)),
            "dense": (dense.shape, (2 * UNITS, dense_bias.shape[0])),
            "head": (head.shape, (dense_bias.shape[0], len(TOXICITY_LABELS))),
        }
        wrong = {name: shapes for name, shapes in expected.items() if shapes[0] != shapes[1]}
        if wrong:
            raise ModelError(f"unexpected toxicity weight shapes (got, expected): {wrong}")
        # Every id's input projection, once (20,000 x 400 floats, 32 MB): the run needs no GEMM
        # on the inputs, only a lookup.
        projection = (embedding @ kernel.reshape(kernel.shape[0], -1)).reshape(-1, *bias.shape)
        projection += bias
        pad_h, pad_c, pad_max = _pad_prefix(projection[0, 0], recurrent[0])
        return cls(projection, recurrent, dense, dense_bias, head, head_bias, pad_h, pad_c, pad_max)

    def forward(self, ids: _Ids) -> _Floats:
        """Scores for ``(batch, steps)`` left-padded ids, ``steps <= MAXLEN``."""
        batch, steps = ids.shape
        projected = self.projection[ids.T]  # (steps, batch, 2, 200)
        # inputs[t, 0] feeds the forward LSTM at step t, inputs[t, 1] the backward one.
        inputs = np.stack([projected[:, :, 0], projected[::-1, :, 1]], axis=1)
        skipped = MAXLEN - steps  # pad ids before the batch's own ones
        h = np.zeros((2, batch, UNITS), np.float32)
        c = np.zeros((2, batch, UNITS), np.float32)
        h[0], c[0] = self.pad_h[skipped], self.pad_c[skipped]
        pooled = np.full((2, batch, UNITS), -np.inf, np.float32)
        pooled[0] = self.pad_max[skipped]
        for step_inputs in inputs:
            h, c = _lstm_step(step_inputs, h, c, self.recurrent)
            np.maximum(pooled, h, out=pooled)
        # The backward LSTM still reads the pad ids in front of the batch: a constant input.
        h_back, c_back, pooled_back = h[1], c[1], pooled[1]
        for _ in range(skipped):
            h_back, c_back = _lstm_step(self.projection[0, 1], h_back, c_back, self.recurrent[1])
            np.maximum(pooled_back, h_back, out=pooled_back)
        features = np.concatenate([pooled[0], pooled[1]], axis=1)
        hidden: _Floats = np.maximum(_matmul_rows(features, self.dense) + self.dense_bias, 0)
        logits_half = _matmul_rows(hidden, self.head) + self.head_bias
        scores: _Floats = np.tanh(logits_half) * 0.5 + 0.5  # float32: Python scalars are weak
        return scores


def _lstm_step(
    inputs: _Floats, h: _Floats, c: _Floats, recurrent: _Floats
) -> tuple[_Floats, _Floats]:
    """One Keras LSTM step on pre-scaled gates; works per direction or for both stacked."""
    gates = np.tanh(inputs + _matmul_rows(h, recurrent)) * _GATE_SCALE + _GATE_SHIFT
    i, f, g, o = np.split(gates, 4, axis=-1)
    c = f * c + i * g
    return o * np.tanh(c), c


def _matmul_rows(a: _Floats, b: _Floats) -> _Floats:
    """``a @ b`` in row blocks small enough that OpenBLAS runs each on the calling thread.

    OpenBLAS splits a GEMM across threads once m*n*k exceeds 262,144. For the small products
    inside the LSTM loop the hand-off costs more than the work: on a busy 2-core machine a whole
    run went 3-6x slower.
    """
    out = np.empty((*a.shape[:-1], b.shape[-1]), dtype=np.float32)
    block_rows = max(1, _SINGLE_THREAD_GEMM // (b.shape[-2] * b.shape[-1]))
    for start in range(0, a.shape[-2], block_rows):
        block = slice(start, start + block_rows)
        np.matmul(a[..., block, :], b, out=out[..., block, :])
    return out


def _pad_prefix(pad_input: _Floats, recurrent: _Floats) -> tuple[_Floats, _Floats, _Floats]:
    """Forward LSTM states, and the running max of its outputs, after 0 to MAXLEN pad ids."""
    hs = np.zeros((MAXLEN + 1, UNITS), np.float32)
    cs = np.zeros((MAXLEN + 1, UNITS), np.float32)
    maxima = np.full((MAXLEN + 1, UNITS), -np.inf, np.float32)
    for k in range(MAXLEN):
        hs[k + 1 : k + 2], cs[k + 1 : k + 2] = _lstm_step(
            pad_input, hs[k : k + 1], cs[k : k + 1], recurrent
        )
        maxima[k + 1] = np.maximum(maxima[k], hs[k + 1])
    return hs, cs, maxima


def _pad(sequences: Sequence[Sequence[int]]) -> _Ids:
    """Left-pad id lists with 0 to the longest one (Keras ``padding="pre"``)."""
    steps = max((len(ids) for ids in sequences), default=0)
    out = np.zeros((len(sequences), steps), dtype=np.int64)
    for row, ids in enumerate(sequences):
        if ids:
            out[row, steps - len(ids) :] = ids
    return out
