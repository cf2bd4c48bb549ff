"""GoEmotions loading and cached e5 embeddings for the language-model training script."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mien.models.e5 import E5Encoder

SPLITS = ("train", "dev", "test")
CHUNK = 2000  # texts per cached chunk, so an interrupted embedding run resumes

# google-research goemotions/data/sentiment_dict.json
SENTIMENT_GROUPS = {
    "positive": (
        "admiration", "amusement", "approval", "caring", "desire", "excitement", "gratitude",
        "joy", "love", "optimism", "pride", "relief",
    ),
    "negative": (
        "anger", "annoyance", "disappointment", "disapproval", "disgust", "embarrassment", "fear",
        "grief", "nervousness", "remorse", "sadness",
    ),
    "ambiguous": ("confusion", "curiosity", "realization", "surprise"),
}  # fmt: skip


@dataclass(frozen=True)
class Split:
    """One GoEmotions split: texts and a multi-hot label matrix (n, 28)."""

    texts: list[str]
    labels: npt.NDArray[np.int8]


def load_labels(data: Path) -> list[str]:
    """The 28 label names in id order (27 emotions + neutral)."""
    return (data / "labels.txt").read_text(encoding="utf-8").split()


def load_split(data: Path, split: str, n_labels: int) -> Split:
    """Read ``<split>.tsv``: text, comma-separated label ids, comment id."""
    texts: list[str] = []
    rows: list[list[int]] = []
    for line in (data / f"{split}.tsv").read_text(encoding="utf-8").splitlines():
        text, ids, _ = line.split("\t")
        texts.append(text)
        rows.append([int(i) for i in ids.split(",")])
    labels = np.zeros((len(texts), n_labels), dtype=np.int8)
    for r, ids_ in enumerate(rows):
        labels[r, ids_] = 1
    return Split(texts, labels)


def embed_cached(
    encoder: E5Encoder, texts: list[str], cache: Path, tag: str
) -> npt.NDArray[np.float32]:
    """Embed ``texts``, reusing chunks cached under ``cache`` (keyed by their content)."""
    cache.mkdir(parents=True, exist_ok=True)
    parts = []
    for start in range(0, len(texts), CHUNK):
        chunk = texts[start : start + CHUNK]
        digest = hashlib.sha256("\n".join(chunk).encode()).hexdigest()[:16]
        path = cache / f"{tag}-{digest}.npy"
        if path.exists():
            parts.append(np.load(path, allow_pickle=False))
            continue
        vectors = encoder.embed(chunk)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors, allow_pickle=False)
        tmp.replace(path)
        parts.append(vectors)
        print(f"  embedded {min(start + CHUNK, len(texts))}/{len(texts)} ({tag})", flush=True)
    if not parts:
        return np.zeros((0, encoder.dim), dtype=np.float32)
    return np.concatenate(parts)
