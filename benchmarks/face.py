"""Images and video seconds per second: mien's face pipeline next to MediaPipe's FaceLandmarker.

    pip install mediapipe==1.2.3         # the reference library, a benchmark-only extra
    PYTHONPATH=. python benchmarks/face.py [--threads 1] [--repeats 3] [--fps 3]

mien's side is the whole face model (``FaceAnalyzer.read``): full-range detector, 478-point mesh
and blendshapes, expression nets and the 48 dimensions, kept at v0's defaults (probability
>= 0.99, faces >= 60 px). MediaPipe's side is its own FaceLandmarker alone, from the same
``face_landmarker.task`` file mien unpacks (short-range detector, mesh, blendshapes, pose
matrices, up to ``--max-faces`` faces): IMAGE mode for photos, VIDEO mode (which tracks the mesh
from frame to frame instead of detecting again) for the video. So the ratio is the price of what
mien adds on top: the full-range detector that finds small faces, and the expression scores.

Images are decoded once beforehand; each figure is the median of ``--repeats`` timed runs after
one warm-up. The video's frames are decoded once at ``--fps`` frames per second of video
(0: every frame) and that decoding time is added to both sides, as each would pay it once.

Threads: mien runs every model with ``Settings(threads=N)``. MediaPipe's Python Tasks API has no
thread setting: its XNNPACK inference uses 1 thread on desktop Linux, and its graph runs on its own
executor threads. The ``cores`` column (process CPU seconds per wall second) shows what each side
really used.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from mien.media.video import VideoFrame
    from mien.models.face.analyzer import FaceAnalyzer

IMAGES = ("happy.jpg", "multi_face.jpg", "group5.jpg", "astronaut.png")
VIDEO = "wolfgang.mp4"
STAGES = ("detect", "mesh", "expression", "dimensions")
INSTALL = 'pip install -e ".[bench]"   (or: pip install mediapipe==1.2.3)'


@dataclass(frozen=True)
class Timing:
    """Median wall and CPU seconds of the timed runs, and what the last run returned."""

    wall_s: float
    cpu_s: float
    faces: int

    @property
    def cores(self) -> float:
        """CPU seconds per wall second: how many cores the run kept busy."""
        return self.cpu_s / self.wall_s


def timed(repeats: int, prepare: Callable[[], Callable[[], int]]) -> Timing:
    """Median of ``repeats`` runs of ``prepare()``'s callable, after one untimed warm-up run.

    ``prepare`` is called, untimed, before every run, so a run may start from a fresh state.
    """
    prepare()()
    walls, cpus, faces = [], [], 0
    for _ in range(repeats):
        run = prepare()
        wall, cpu = time.perf_counter(), time.process_time()
        faces = run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return Timing(statistics.median(walls), statistics.median(cpus), faces)


def mediapipe_or_exit() -> Any:
    """The ``mediapipe`` module, or exit with the command that installs it."""
    try:
        import mediapipe  # type: ignore[import-untyped]
    except ImportError:
        sys.exit(
            f"benchmarks/face.py compares against MediaPipe, which is not installed:\n    {INSTALL}"
        )
    return mediapipe


class MediaPipeSide:
    """MediaPipe's FaceLandmarker on the same ``.task`` file mien uses."""

    def __init__(self, mp: Any, task: Path, max_faces: int) -> None:
        """Remember the module and the options both running modes share."""
        self.mp = mp
        self.task = task
        self.max_faces = max_faces

    def landmarker(self, video: bool) -> Any:
        """A new FaceLandmarker in VIDEO or IMAGE running mode."""
        vision = self.mp.tasks.vision
        options = vision.FaceLandmarkerOptions(
            base_options=self.mp.tasks.BaseOptions(model_asset_path=str(self.task)),
            running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE,
            num_faces=self.max_faces,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        return vision.FaceLandmarker.create_from_options(options)

    def image(self, pixels: np.ndarray) -> Any:
        """``pixels`` (RGB ``uint8``) as a MediaPipe image."""
        return self.mp.Image(image_format=self.mp.ImageFormat.SRGB, data=pixels)


def image_rows(
    analyzer: FaceAnalyzer, reference: MediaPipeSide, images: dict[str, np.ndarray], repeats: int
) -> list[tuple[str, Timing, Timing, dict[str, float]]]:
    """Per image: mien's timing, MediaPipe's timing and mien's seconds per stage per call."""
    rows = []
    with reference.landmarker(video=False) as landmarker:
        for name, pixels in images.items():
            analyzer.timings.clear()
            ours = timed(repeats, again(partial(count, analyzer, pixels)))
            stages = {s: analyzer.timings[s] / (repeats + 1) for s in STAGES}
            image = reference.image(pixels)
            theirs = timed(repeats, again(partial(count_mp, landmarker, image)))
            rows.append((name, ours, theirs, stages))
    return rows


def video_row(
    analyzer: FaceAnalyzer, reference: MediaPipeSide, frames: Sequence[VideoFrame], repeats: int
) -> tuple[Timing, Timing, dict[str, float]]:
    """The whole video for each side; faces are summed over the frames."""
    analyzer.timings.clear()
    ours = timed(repeats, again(lambda: sum(count(analyzer, f.image) for f in frames)))
    stages = {s: analyzer.timings[s] / (repeats + 1) / len(frames) for s in STAGES}
    images = [(round(f.time_s * 1000), reference.image(f.image)) for f in frames]

    landmarkers: list[Any] = []

    def fresh() -> Callable[[], int]:
        landmarker = reference.landmarker(video=True)  # VIDEO mode keeps state: start anew
        landmarkers.append(landmarker)  # closed after the timing, not within it
        return lambda: sum(len(landmarker.detect_for_video(i, t).face_landmarks) for t, i in images)

    try:
        theirs = timed(repeats, fresh)
    finally:
        for landmarker in landmarkers:
            landmarker.close()
    return ours, theirs, stages


def count(analyzer: FaceAnalyzer, pixels: np.ndarray) -> int:
    """How many faces mien measures in ``pixels`` at v0's default thresholds."""
    return len(analyzer.read(pixels, prob_threshold=0.99, min_face_size=60))


def count_mp(landmarker: Any, image: Any) -> int:
    """How many faces MediaPipe's landmarker finds in ``image`` (IMAGE mode)."""
    return len(landmarker.detect(image).face_landmarks)


def again(run: Callable[[], int]) -> Callable[[], Callable[[], int]]:
    """A ``prepare`` for :func:`timed` that needs no fresh state between runs."""
    return lambda: run


def ms(seconds: float) -> str:
    """Seconds as a right-aligned millisecond figure."""
    return f"{seconds * 1000:7.1f}"


def main() -> None:
    """Run both sides and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="mien's threads per model call")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fps", type=float, default=3.0, help="video frames per second, 0: all")
    parser.add_argument("--max-faces", type=int, default=5, help="MediaPipe's num_faces")
    args = parser.parse_args()
    mp = mediapipe_or_exit()

    import av

    from mien.media.image import load_image
    from mien.media.video import iter_frames
    from mien.models.face.analyzer import FaceAnalyzer
    from mien.settings import Settings
    from mien.weights import fetch
    from tests.face_media import face_media

    settings = Settings(threads=args.threads)
    reference = MediaPipeSide(mp, fetch("face-landmarker", settings), args.max_faces)
    analyzer = FaceAnalyzer(settings)
    images = {name: load_image(face_media(name)) for name in IMAGES}
    video = face_media(VIDEO)
    start = time.perf_counter()
    frames = list(iter_frames(video, args.fps))
    decode_s = time.perf_counter() - start
    with av.open(str(video)) as container:
        duration_s = float(container.duration or 0) / av.time_base

    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"mien threads={args.threads}, MediaPipe {reference.mp.__version__} (own threading), "
        f"median of {args.repeats}"
    )
    print(
        "\nimages | ms per image: mien, MediaPipe, mien speed/MediaPipe | faces found | "
        "mien ms per stage | cores used"
    )
    print(
        f"{'image':15s} {'size':>9s} | {'mien':>7s} {'MP':>7s} {'ratio':>5s} | {'mien':>4s} "
        f"{'MP':>3s} | " + " ".join(f"{s[:6]:>6s}" for s in STAGES) + " | mien   MP"
    )
    rows = image_rows(analyzer, reference, images, args.repeats)
    for name, ours, theirs, stages in rows:
        height, width = images[name].shape[:2]
        print(
            f"{name:15s} {width:4d}x{height:<4d} | {ms(ours.wall_s)} {ms(theirs.wall_s)} "
            f"{theirs.wall_s / ours.wall_s:5.2f} | {ours.faces:4d} {theirs.faces:3d} | "
            + " ".join(f"{s * 1000:6.1f}" for s in stages.values())
            + f" | {ours.cores:4.2f} {theirs.cores:4.2f}"
        )
    ours_s = sum(r[1].wall_s for r in rows)
    theirs_s = sum(r[2].wall_s for r in rows)
    print(
        f"images/s: mien {len(rows) / ours_s:.1f}, MediaPipe {len(rows) / theirs_s:.1f}, "
        f"mien/MediaPipe {theirs_s / ours_s:.2f}"
    )

    ours, theirs, stages = video_row(analyzer, reference, frames, args.repeats)
    sampled = f"{args.fps:g} fps" if args.fps else "every frame"
    print(
        f"\nvideo {VIDEO}: {duration_s:.1f} s, {len(frames)} frames ({sampled}), decoded once "
        f"in {decode_s:.2f} s; the decoding time is added to both sides"
    )
    print(
        f"video s per wall s: mien {duration_s / (decode_s + ours.wall_s):.1f}, "
        f"MediaPipe {duration_s / (decode_s + theirs.wall_s):.1f}, "
        f"mien/MediaPipe {(decode_s + theirs.wall_s) / (decode_s + ours.wall_s):.2f}"
    )
    print(
        f"ms per frame: mien {ms(ours.wall_s / len(frames)).strip()}, "
        f"MediaPipe {ms(theirs.wall_s / len(frames)).strip()}; "
        f"faces over all frames: mien {ours.faces}, MediaPipe {theirs.faces}; "
        f"cores used: mien {ours.cores:.2f}, MediaPipe {theirs.cores:.2f}"
    )
    print(
        "mien ms per stage per frame: "
        + ", ".join(f"{s} {v * 1000:.1f}" for s, v in stages.items())
    )


if __name__ == "__main__":
    main()
