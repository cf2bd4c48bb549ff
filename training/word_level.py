"""Compare word-level methods of the language model: localisation and speed.

    python training/word_level.py [--data ../shared/datasets/goemotions]

Methods (each word's scores are then blended with its sentence's, ``WORD_WEIGHT``):

* ``alone``: the word encoded on its own (what mien ships; words repeat, so they are cached);
* ``window1`` / ``window2``: the word with 1 or 2 neighbours on each side (sees negation and
  local sense, but every occurrence is a new text: nothing to cache).

Localisation: on training/language_words.json, the share of sentences where the word that carries
the named dimension scores highest on it among the sentence's words (blending with the sentence
adds the same amount to every word, so it does not change this). Speed: words per second on 200
GoEmotions test comments (or the check sentences), cold cache and warm cache.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from mien.models.language import LanguageModel
from mien.models.segment import sentence_spans, word_spans
from mien.taxonomy import EMOTIONS_53

HERE = Path(__file__).resolve().parent


def windows(text: str, spans: list[tuple[int, int]], width: int) -> list[str]:
    """Each word with ``width`` neighbouring words on each side, as a slice of ``text``."""
    out = []
    for i in range(len(spans)):
        left, right = spans[max(0, i - width)], spans[min(len(spans) - 1, i + width)]
        out.append(text[left[0] : right[1]])
    return out


def word_texts(text: str, method: str) -> tuple[list[tuple[int, int]], list[str]]:
    spans = [w for b, e in sentence_spans(text) for w in word_spans(text, b, e)]
    if method == "alone":
        return spans, [text[b:e] for b, e in spans]
    return spans, windows(text, spans, int(method[-1]))


def localisation(model: LanguageModel, method: str) -> tuple[float, float]:
    items = json.loads((HERE / "language_words.json").read_text(encoding="utf-8"))["items"]
    hits, ranks = [], []
    for item in items:
        spans, texts = word_texts(item["text"], method)
        emotions, _ = model.heads.predict(texts, model.encoder.embed(texts).astype(np.float64))
        column = emotions[:, EMOTIONS_53.index(item["dimension"])]
        words = [item["text"][b:e] for b, e in spans]
        order = [words[i] for i in np.argsort(-column)]
        ranks.append(order.index(item["word"]) + 1)
        hits.append(ranks[-1] == 1)
    return float(np.mean(hits)), float(np.mean(ranks))


def speed(model: LanguageModel, corpus: list[str], method: str) -> tuple[float, float]:
    """Words per second, cold then warm (second pass) for the cached method."""
    text = "\n".join(corpus)
    n = sum(len(word_texts(t, "alone")[0]) for t in corpus)
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        if method == "alone":
            model.predict(text, granularity="word")
        else:
            spans, texts = word_texts(text, method)
            model.heads.predict(texts, model.encoder.embed(texts).astype(np.float64))
            model.predict(text, granularity="sentence")
        timings.append(time.perf_counter() - start)
    return n / timings[0], n / timings[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="GoEmotions folder for the speed corpus")
    args = parser.parse_args()
    if args.data:
        lines = (args.data / "test.tsv").read_text(encoding="utf-8").splitlines()[:200]
        corpus = [line.split("\t")[0] for line in lines]
    else:
        items = json.loads((HERE / "language_words.json").read_text(encoding="utf-8"))["items"]
        corpus = [item["text"] for item in items]
    model = LanguageModel()
    results = {}
    for method in ("alone", "window1", "window2"):
        model._words.clear()
        hit, rank = localisation(model, method)
        model._words.clear()
        cold, warm = speed(model, corpus, method)
        results[method] = {
            "localisation_top1": round(hit, 3),
            "mean_rank": round(rank, 2),
            "words_per_s_cold": round(cold, 1),
            "words_per_s_warm": round(warm, 1),
        }
        print(method, results[method], flush=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
