"""Real-time factor: mien's whole voice pipeline next to faster-whisper's transcription alone.

    PYTHONPATH=. python benchmarks/voice.py [--threads 2] [--model base] [--minutes 10]
        [--format mp3] [--runs 3]

mien's side is every voice model on one file, as a batch job runs them: ``prosody``, ``burst``,
``language`` and ``ner`` with ``identify_speakers``. The first call does the shared analysis
(decoding, voice activity, acoustic frames, YAMNet audio events, Whisper transcription, speaker
turns); the others reuse it. faster-whisper's side is ``WhisperModel.transcribe`` alone, on the
same model folder mien assembles, with the same compute type (int8), beam size, thread count and
decoding options (``condition_on_previous_text=False``; the thresholds are faster-whisper's own
defaults, which mien keeps), ``word_timestamps=True`` and its own ``vad_filter=True``. So the ratio
is the price of what mien adds around transcription.

Two inputs: ``jfk.wav`` (11 s, median of ``--runs``) and a ``--minutes`` long conversation built
on the spot (run once): two espeak-ng voices taking turns, JFK and Beckett recordings, a staged
laugh and pauses up to 4 s, encoded as ``--format`` (MP3 by default, 44.1 kHz stereo, so both sides
pay for decoding and resampling). Each side runs in a subprocess of its own per input, so peak
memory (max RSS) is its own; "load" is imports, model loading and one warm-up run on a 3 s clip
(mien loads Whisper and the speaker encoder on first use), and the real-time factor (processing
seconds per audio second) counts processing only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, Literal

import numpy as np

MODELS = ("prosody", "burst", "language", "ner")
STAGES = ("transcription", "speakers", "vad", "acoustics", "events")
"""Parts of mien's shared analysis timed on their own; the rest of it is mostly decoding."""
SENTENCES = (
    "Good morning, thank you all for coming in so early today.",
    "I know the train was late again, and I am sorry about that.",
    "We have three things to talk about before lunch.",
    "First, the budget for next year is still not signed.",
    "Honestly, I think we asked for far too little last time.",
    "Could you send me the numbers from the spring campaign?",
    "That was the best quarter we have had in years.",
    "I am worried that nobody has tested the new release.",
    "Please do not change the schedule without telling me first.",
    "What a wonderful surprise, I did not expect you back so soon!",
    "The warehouse in Hamburg will close at the end of March.",
    "Maybe we should ask Maria what she thinks about it.",
)
VOICES = (("en-us+m3", 25), ("en+f3", 80))
"""Two espeak-ng voices (voice, pitch) that take turns: a low man's and a high woman's."""
CODECS = {"mp3": ("mp3", "libmp3lame"), "m4a": ("ipod", "aac")}
"""File format -> (container, encoder) for PyAV."""
RATE_HZ = 16_000
Whisper = Literal["base", "tiny.en"]


def maxrss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stopwatch(owner: object, attribute: str, totals: dict[str, float], stage: str) -> None:
    """Replace ``owner.attribute`` by a wrapper that adds its wall time to ``totals[stage]``."""
    original = getattr(owner, attribute)

    @wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[stage] += time.perf_counter() - start

    setattr(owner, attribute, timed)


def mien_side(path: Path, warmup: Path, threads: int, model: Whisper, runs: int) -> dict[str, Any]:
    """Load every voice model, warm up, time ``runs`` passes over copies of ``path``: the median."""
    start = time.perf_counter()
    from mien.media import MediaItem
    from mien.models.registry import load_model
    from mien.models.voice import analysis
    from mien.models.voice.analysis import SpeechAnalyzer
    from mien.models.voice.events import AudioEvents
    from mien.models.voice.transcribe import Transcriber
    from mien.schemas import InferenceRequest
    from mien.settings import Settings

    settings = Settings(threads=threads, whisper_model=model)
    loaded = {name: load_model(name, settings) for name in MODELS}
    request = InferenceRequest.model_validate(
        {"models": {name: {} for name in MODELS}, "transcription": {"identify_speakers": True}}
    )

    for name in MODELS:  # the warm-up also loads Whisper and the speaker encoder
        loaded[name].predict_file(MediaItem(warmup.name, "audio", warmup, ""), request)
    load_s, load_mb = time.perf_counter() - start, maxrss_mb()

    totals: dict[str, float] = defaultdict(float)
    stopwatch(SpeechAnalyzer, "_analyze", totals, "analysis")
    stopwatch(Transcriber, "transcribe_file", totals, "transcription")
    stopwatch(SpeechAnalyzer, "_turns", totals, "speakers")
    stopwatch(analysis, "assign_speakers", totals, "clustering")
    stopwatch(analysis, "speech_stretches", totals, "vad")
    stopwatch(analysis, "frames", totals, "acoustics")
    stopwatch(AudioEvents, "classify", totals, "events")
    passes: list[dict[str, float]] = []
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        for run in range(runs):
            copy = Path(folder) / f"{run}{path.suffix}"  # a new path: mien keeps no analysis
            shutil.copyfile(path, copy)
            totals.clear()
            timings: dict[str, float] = {}
            blocks: dict[str, Any] = {}
            began = time.perf_counter()
            item = MediaItem(copy.name, "audio", copy, "")
            for name in MODELS:
                analysis_before, model_start = totals["analysis"], time.perf_counter()
                blocks[name] = loaded[name].predict_file(item, request)
                spent = time.perf_counter() - model_start
                timings[name] = spent - (totals["analysis"] - analysis_before)
            timings["total"] = time.perf_counter() - began
            passes.append(
                timings | {stage: totals[stage] for stage in ("analysis", "clustering", *STAGES)}
            )
            counts = summary(blocks)
    return {
        "load_s": load_s,
        "load_mb": load_mb,
        "peak_mb": maxrss_mb(),
        "timings": sorted(passes, key=lambda p: p["total"])[len(passes) // 2],  # the median run
        "counts": counts,
    }


def summary(blocks: dict[str, Any]) -> dict[str, int]:
    """What mien found: words, speakers, utterances, bursts and named entities."""

    def count(name: str) -> int:
        return sum(len(group.predictions) for group in blocks[name].grouped_predictions)

    speakers = {group.id for group in blocks["language"].grouped_predictions} - {"unknown"}
    return {
        "words": count("language"),
        "speakers": len(speakers),
        "utterances": count("prosody"),
        "bursts": count("burst"),
        "entities": count("ner"),
    }


def whisper_side(
    path: Path, warmup: Path, threads: int, model: Whisper, runs: int
) -> dict[str, Any]:
    """faster-whisper alone on mien's model folder; median of ``runs`` transcriptions."""
    start = time.perf_counter()
    from faster_whisper import WhisperModel

    from mien.models.voice.transcribe import BEAM_SIZE
    from mien.models.voice.whisper_files import model_folder
    from mien.settings import Settings

    folder = model_folder(model, Settings(threads=threads))
    whisper = WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=threads)

    def transcribe(audio: Path) -> int:
        segments, _ = whisper.transcribe(
            str(audio),
            beam_size=BEAM_SIZE,
            word_timestamps=True,
            vad_filter=True,
            condition_on_previous_text=False,
        )
        return sum(len(segment.words or ()) for segment in segments)  # segments are lazy

    transcribe(warmup)
    load_s, load_mb = time.perf_counter() - start, maxrss_mb()
    walls, words = [], 0
    for _ in range(runs):
        began = time.perf_counter()
        words = transcribe(path)
        walls.append(time.perf_counter() - began)
    return {
        "load_s": load_s,
        "load_mb": load_mb,
        "peak_mb": maxrss_mb(),
        "timings": {"total": statistics.median(walls)},
        "counts": {"words": words},
    }


SIDES: dict[str, Callable[[Path, Path, int, Whisper, int], dict[str, Any]]] = {
    "mien": mien_side,
    "whisper": whisper_side,
}


def run_side(side: str, path: Path, warmup: Path, args: argparse.Namespace, runs: int) -> Any:
    """Run one side in a fresh interpreter and read back the JSON it prints."""
    command = [sys.executable, __file__, "--side", side, "--file", str(path)]
    command += ["--warmup", str(warmup), "--threads", str(args.threads), "--model", args.model]
    command += ["--runs", str(runs)]
    root = str(Path(__file__).resolve().parents[1])
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.getenv("PYTHONPATH")]))
    }
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, env=env, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def conversation(folder: Path, minutes: float, file_format: str) -> Path:
    """A ``minutes`` long meeting: two synthetic voices, two recordings, a laugh and pauses."""
    from mien.media import load_audio
    from tests.voice_media import speak, voice_media, write_wav

    rng = np.random.default_rng(0)
    said = [
        load_audio(speak(text, folder / f"{i}-{v}.wav", voice=voice, pitch=pitch))
        for i, text in enumerate(SENTENCES)
        for v, (voice, pitch) in enumerate(VOICES)
    ]
    recordings = [load_audio(voice_media(name)) for name in ("jfk.wav", "beckett.wav")]
    laugh = load_audio(voice_media("laugh-pompous.wav"))
    pieces: list[np.ndarray] = []
    total, turn = 0, 0
    while total < minutes * 60 * RATE_HZ:
        if turn % 9 == 8:
            piece = recordings[turn // 9 % 2]
        elif turn % 23 == 22:
            piece = laugh
        else:  # the two voices alternate, each saying one or two sentences per turn
            picks = rng.choice(len(SENTENCES), size=rng.integers(1, 3))
            piece = np.concatenate([said[2 * p + turn % 2] for p in picks])
        pause_s = 4.0 if turn % 10 == 9 else rng.uniform(0.3, 1.5)
        pieces += [piece, np.zeros(round(pause_s * RATE_HZ), np.float32)]
        total += len(piece) + len(pieces[-1])
        turn += 1
    samples = np.concatenate(pieces)[: round(minutes * 60 * RATE_HZ)]
    samples += rng.normal(0, 1e-3, len(samples)).astype(np.float32)  # a room's noise floor
    target = folder / f"conversation.{file_format}"
    if file_format == "wav":
        write_wav(samples, target)
    else:
        encode(samples, target, *CODECS[file_format])
    return target


def encode(samples: np.ndarray, target: Path, container: str, codec: str) -> None:
    """Encode 16 kHz mono ``samples`` as 44.1 kHz stereo (PyAV resamples to the encoder)."""
    import av

    with av.open(str(target), "w", format=container) as out:
        stream = out.add_stream(codec, rate=44_100, layout="stereo")
        assert isinstance(stream, av.AudioStream)
        block = 4096
        for start in range(0, len(samples), block):
            piece = np.ascontiguousarray(samples[None, start : start + block])
            frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = RATE_HZ, start
            out.mux(stream.encode(frame))
        out.mux(stream.encode())


def duration_s(path: Path) -> float:
    """Seconds of audio mien decodes from ``path``."""
    from mien.media import load_audio

    return len(load_audio(path)) / RATE_HZ


def report(name: str, seconds: float, ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    """Print one input's comparison and mien's time per stage."""
    mine, fw = ours["timings"]["total"], theirs["timings"]["total"]
    print(
        f"{name:22s} {seconds:7.1f} | {ours['load_s']:5.1f} {theirs['load_s']:5.1f} | "
        f"{mine / seconds:6.3f} {fw / seconds:6.3f} {mine / fw:4.2f} | "
        f"{ours['load_mb']:5.0f} {theirs['load_mb']:5.0f} | "
        f"{ours['peak_mb']:5.0f} {theirs['peak_mb']:5.0f} | "
        f"{ours['counts']['words']:5d} {theirs['counts']['words']:5d}"
    )


def stages(name: str, ours: dict[str, Any]) -> None:
    """Print where mien's processing time went, in ms."""
    timings = ours["timings"]
    rest = timings["analysis"] - sum(timings[s] for s in STAGES)
    parts = [f"{s} {timings[s] * 1000:.0f}" for s in STAGES] + [f"decoding+rest {rest * 1000:.0f}"]
    parts[1] += f" (clustering {timings['clustering'] * 1000:.0f})"
    models = [f"{m} {timings[m] * 1000:.0f}" for m in MODELS]
    found = ", ".join(f"{v} {k}" for k, v in ours["counts"].items())
    print(f"{name}: shared analysis {timings['analysis'] * 1000:.0f} ms = " + ", ".join(parts))
    print(f"{' ' * len(name)}  then per model (ms): " + ", ".join(models) + f"; found {found}")


def main() -> None:
    """Build the inputs, run each side per input in its own process, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--model", choices=("base", "tiny.en"), default="base")
    parser.add_argument("--minutes", type=float, default=10.0, help="long input, 0: skip it")
    parser.add_argument("--format", choices=("mp3", "m4a", "wav"), default="mp3")
    parser.add_argument("--runs", type=int, default=3, help="timed runs on the short clip")
    parser.add_argument("--side", choices=tuple(SIDES), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:  # a child: one side on one input
        found = SIDES[args.side](args.file, args.warmup, args.threads, args.model, args.runs)
        print(json.dumps(found))
        return

    from tests.voice_media import speak, voice_media

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        warmup = speak("Hello there. This clip only warms the models up.", folder / "warmup.wav")
        inputs = [(voice_media("jfk.wav"), args.runs)]
        if args.minutes:
            inputs.append((conversation(folder, args.minutes, args.format), 1))
        print(
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
            f"threads={args.threads}, whisper {args.model} int8, beam 5; "
            f"fw = faster-whisper transcription alone"
        )
        print(f"{'':30s} | load s incl.| real-time factor   | MB after    | MB peak     | words")
        print(
            f"{'input':22s} {'audio s':>7s} | {'mien':>5s} {'fw':>5s} | "
            f"{'mien':>6s} {'fw':>6s} {'m/fw':>4s} | "
            f"{'mien':>5s} {'fw':>5s} | {'mien':>5s} {'fw':>5s} | {'mien':>5s} {'fw':>5s}"
        )
        results = []
        for path, runs in inputs:
            ours = run_side("mien", path, warmup, args, runs)
            theirs = run_side("whisper", path, warmup, args, runs)
            runs_note = f" x{runs}" if runs > 1 else ""
            report(path.name + runs_note, duration_s(path), ours, theirs)
            results.append((path.name, ours))
        print()
        for name, ours in results:
            stages(name, ours)


if __name__ == "__main__":
    main()
