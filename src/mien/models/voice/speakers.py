"""Speaker embeddings (Resemblyzer's GE2E encoder, in numpy) and diarization without torch.

The encoder replicates Resemblyzer 0.1.4 exactly: volume raised (never lowered) to -30 dBFS, a
power mel spectrogram (25 ms Hann window, 10 ms hop, 40 Slaney mel bands, centred frames as in
librosa), a 3-layer LSTM (hidden 256) over 160-frame (1.6 s) windows, then linear 256 + ReLU and
L2 normalisation (checked against Resemblyzer with torch 2.13 and librosa 0.11: max abs
difference 6e-7; librosa < 0.10 padded the first frame by reflection, not zeros, which changes
only the first two frames of a recording). Resemblyzer also cuts long silences with webrtcvad
before embedding; here the caller's VAD stretches do that job, so nothing is trimmed.

Diarization embeds 1.6 s windows every 0.5 s inside the speech stretches, clusters them by
average-linkage agglomeration on cosine distance until the closest clusters are farther apart
than :data:`MERGE_DISTANCE` (so the number of speakers is found, and one voice stays one), smooths
the labels with a majority filter, and turns the labels back into timed turns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from mien.models.voice.checkpoint import load_legacy_checkpoint
from mien.settings import Settings
from mien.weights import fetch

__all__ = [
    "WindowPlan",
    "assign_speakers",
    "plan_windows",
    "MERGE_DISTANCE",
    "SpeakerEncoder",
    "SpeakerTurn",
    "diarize",
    "speaker_at",
]

SAMPLE_RATE_HZ = 16_000
_N_FFT = 400  # 25 ms
_HOP = 160  # 10 ms: 100 frames a second
_N_MELS = 40
_TARGET_DBFS = -30.0
_INT16_MAX = 2**15 - 1
_LAYERS = 3

WINDOW_S = 1.6
"""Length of one embedded window: the 160 frames Resemblyzer was trained on."""
HOP_S = 0.5
"""Step between the windows diarization embeds."""
MERGE_DISTANCE = 0.4
"""Average cosine distance between clusters above which they stay two speakers.

Measured with 1.6 s windows every 0.5 s: the mean distance between two windows of one speaker
was 0.305 for JFK's noisy 1961 recording, 0.20 for Beckett, 0.18-0.19 for espeak-ng voices;
between two speakers it was 0.44-0.63 (JFK/Beckett 0.63, Beckett/espeak 0.46-0.59, espeak male
low/female high 0.52). 0.4 keeps a margin above the noisiest single voice; it cannot tell apart
two renderings of one synthesiser (espeak ``en`` vs ``en-us+m3``: 0.26), nor, probably, very
similar real voices. Only full, mostly voiced windows found clusters (see :func:`_reliable`).
"""
_SMOOTH_WINDOWS = 5
"""Majority filter width (windows of one stretch): a run of one or two odd windows is dropped."""
_MIN_FOUNDING_S = 1.0
"""Shortest window allowed to found a cluster (see :func:`_reliable`)."""
_ACTIVE_DB = 25.0
"""A 10 ms frame is active when within this many decibels of the loud frames."""
_BATCH = 256
"""Windows run through the LSTM at once: bounds memory (about 200 MB) on long recordings."""
_MAX_CLUSTERED = 1500
"""Most windows clustered directly (the merge loop is cubic); others join the nearest centroid."""


@dataclass(frozen=True)
class SpeakerTurn:
    """A stretch of speech by one speaker."""

    speaker: str
    """``spk_0``, ``spk_1``, ... in order of first appearance."""
    start_s: float
    end_s: float
    confidence: float
    """In [0, 1], the duration-weighted mean of :func:`_confidence` over the turn's windows."""


class SpeakerEncoder:
    """Resemblyzer's GE2E speaker encoder, run in numpy from its torch checkpoint."""

    def __init__(self, settings: Settings) -> None:
        """Read the pinned checkpoint (fetched on first use)."""
        state = _load_state(str(fetch("speaker-encoder-ge2e", settings)))
        self._lstm = [
            (
                state[f"lstm.weight_ih_l{k}"].T.copy(),
                state[f"lstm.weight_hh_l{k}"].T.copy(),
                state[f"lstm.bias_ih_l{k}"] + state[f"lstm.bias_hh_l{k}"],
            )
            for k in range(_LAYERS)
        ]
        self._linear = (state["linear.weight"].T.copy(), state["linear.bias"])

    def embed_windows(
        self, audio: np.ndarray, starts_s: Sequence[float], length_s: float = WINDOW_S
    ) -> np.ndarray:
        """Embed the windows ``[start, start + length_s)`` of 16 kHz mono ``audio``.

        As Resemblyzer does, the whole of ``audio`` is first raised to -30 dBFS, and windows
        running past its end see zeros. Returns ``(len(starts_s), 256)`` float32, L2-normalised.
        """
        audio = np.asarray(audio, np.float32)
        return self._embed(audio * _gain(audio), [(s, length_s) for s in starts_s])

    def measure(
        self,
        audio: np.ndarray,
        windows: Sequence[tuple[float, float]],
        stretches: Sequence[tuple[float, float]],
        offset_s: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings of (start, length) ``windows`` and which of them may found a cluster.

        ``audio`` is the piece of the track that starts at ``offset_s`` and holds the windows;
        its level is normalised on the speech ``stretches`` inside it.
        """
        audio = np.asarray(audio, np.float32)
        local = [(a - offset_s, n) for a, n in windows]
        pieces = [
            audio[
                max(0, round((a - offset_s) * SAMPLE_RATE_HZ)) : round(
                    (b - offset_s) * SAMPLE_RATE_HZ
                )
            ]
            for a, b in stretches
        ]
        voiced = np.concatenate([p for p in pieces if len(p)] or [audio])
        return self._embed(audio * _gain(voiced), local), _reliable(audio, local)

    def _embed(self, audio: np.ndarray, windows: Sequence[tuple[float, float]]) -> np.ndarray:
        """Embed (start, length) windows of already volume-normalised audio, grouped by length.

        Times are rounded to the 10 ms frames; a window starting before 0 starts at 0.
        """
        spans = [(max(0, round(s * 100)), max(1, round(n * 100))) for s, n in windows]
        out = np.zeros((len(spans), 256), np.float32)
        if not spans:
            return out
        needed = max(first + n for first, n in spans) * _HOP
        audio = np.pad(audio, (0, max(0, needed - len(audio))))  # Resemblyzer pads with zeros
        mel = _mel_spectrogram(audio)
        for n in {n for _, n in spans}:
            same = [i for i, (_, m) in enumerate(spans) if m == n]
            for rows in (same[k : k + _BATCH] for k in range(0, len(same), _BATCH)):
                out[rows] = self._forward(np.stack([mel[spans[i][0] :][:n] for i in rows]))
        return out

    def _forward(self, mels: np.ndarray) -> np.ndarray:
        """The network on ``(batch, frames, 40)`` mels: last layer's final state → embedding."""
        x = mels.astype(np.float32)
        for w_ih, w_hh, bias in self._lstm:
            x = _lstm_layer(x, w_ih, w_hh, bias)
        weight, bias = self._linear
        raw = np.maximum(x[:, -1] @ weight + bias, 0.0)
        norm = np.linalg.norm(raw, axis=1, keepdims=True)
        unit: np.ndarray = (raw / np.maximum(norm, 1e-12)).astype(np.float32)
        return unit


@dataclass(frozen=True)
class WindowPlan:
    """Where the speaker windows of a track go: (start, length) each, and each one's stretch."""

    stretches: list[tuple[float, float]]
    windows: list[tuple[float, float]]
    owner: np.ndarray


def plan_windows(speech: Sequence[tuple[float, float]], duration_s: float) -> WindowPlan:
    """Windows every :data:`HOP_S` over the speech stretches of a track ``duration_s`` long."""
    stretches = _stretches(speech, duration_s)
    windows, owner = _windows(stretches)
    return WindowPlan(stretches, windows, owner)


def diarize(
    encoder: SpeakerEncoder, audio: np.ndarray, speech: Sequence[tuple[float, float]]
) -> list[SpeakerTurn]:
    """Who speaks when, over the ``speech`` stretches (start_s, end_s) of 16 kHz ``audio``.

    Returns turns in time order covering the speech; a speaker who goes on after a pause keeps
    one turn. The number of speakers is found from the audio; one voice gives only ``spk_0``.
    Long tracks go through :func:`plan_windows`, :meth:`SpeakerEncoder.measure` chunk by chunk
    and :func:`assign_speakers` instead, so they never sit whole in memory.
    """
    plan = plan_windows(speech, len(audio) / SAMPLE_RATE_HZ)
    if not plan.stretches:
        return []
    embeddings, reliable = encoder.measure(audio, plan.windows, plan.stretches)
    return assign_speakers(plan, embeddings, reliable)


def assign_speakers(
    plan: WindowPlan, embeddings: np.ndarray, reliable: np.ndarray
) -> list[SpeakerTurn]:
    """Cluster the windows' embeddings into speakers and lay the speakers out as turns."""
    if not plan.stretches:
        return []
    stretches, windows, owner = plan.stretches, plan.windows, plan.owner
    labels = _cluster(embeddings, reliable)
    labels = np.concatenate([_smooth(labels[owner == k]) for k in range(len(stretches))])
    centroids = {k: _unit(embeddings[labels == k].mean(axis=0)) for k in set(labels.tolist())}
    confidence = _confidence(embeddings, labels, centroids)
    names: dict[int, str] = {}
    pieces: list[SpeakerTurn] = []
    for k, (a, b) in enumerate(stretches):
        rows = np.flatnonzero(owner == k)
        centres = [windows[i][0] + windows[i][1] / 2 for i in rows]
        edges = [a, *((x + y) / 2 for x, y in zip(centres, centres[1:], strict=False)), b]
        for j, i in enumerate(rows):
            name = names.setdefault(int(labels[i]), f"spk_{len(names)}")
            pieces.append(SpeakerTurn(name, edges[j], edges[j + 1], float(confidence[i])))
    return _merge(pieces)


def speaker_at(turns: Sequence[SpeakerTurn], start_s: float, end_s: float) -> tuple[str, float]:
    """The speaker covering most of ``[start_s, end_s]`` and that speaker's confidence there.

    A range no turn overlaps (a point, or a pause) takes the nearest turn. With no turns at all
    the answer is ``("spk_0", 0.0)``.
    """
    if not turns:
        return "spk_0", 0.0
    overlap: dict[str, float] = {}
    weighted: dict[str, float] = {}
    for turn in turns:
        covered = min(end_s, turn.end_s) - max(start_s, turn.start_s)
        if covered > 0:
            overlap[turn.speaker] = overlap.get(turn.speaker, 0.0) + covered
            weighted[turn.speaker] = weighted.get(turn.speaker, 0.0) + covered * turn.confidence
    if not overlap:
        gap = [max(turn.start_s - end_s, start_s - turn.end_s, 0.0) for turn in turns]
        nearest = turns[int(np.argmin(gap))]
        return nearest.speaker, nearest.confidence
    speaker = max(overlap, key=overlap.__getitem__)
    return speaker, weighted[speaker] / overlap[speaker]


@cache
def _load_state(path: str) -> dict[str, np.ndarray]:
    """The checkpoint's model weights, read once per process (17 MB, about 0.1 s)."""
    state: dict[str, np.ndarray] = load_legacy_checkpoint(Path(path))["model_state"]
    return state


def _gain(samples: np.ndarray) -> float:
    """Factor that raises ``samples`` to -30 dBFS RMS, never lowers them (Resemblyzer's rule)."""
    rms = float(np.sqrt(np.mean((samples.astype(np.float64) * _INT16_MAX) ** 2)))
    if rms == 0.0:
        return 1.0
    change_db = _TARGET_DBFS - 20 * np.log10(rms / _INT16_MAX)
    return float(10 ** (change_db / 20)) if change_db > 0 else 1.0


@cache
def _mel_filters() -> np.ndarray:
    """The librosa default mel filterbank (Slaney scale and area normalisation), ``(40, 201)``."""
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, np.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp

    def to_mel(hz: float) -> float:
        return hz / f_sp if hz < min_log_hz else min_log_mel + np.log(hz / min_log_hz) / logstep

    mels = np.linspace(to_mel(0.0), to_mel(SAMPLE_RATE_HZ / 2), _N_MELS + 2)
    hz = np.where(
        mels < min_log_mel, f_sp * mels, min_log_hz * np.exp(logstep * (mels - min_log_mel))
    )
    fft_hz = np.linspace(0, SAMPLE_RATE_HZ / 2, _N_FFT // 2 + 1)
    ramps = hz[:, None] - fft_hz[None, :]
    widths = np.diff(hz)
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper)) * (2.0 / (hz[2:] - hz[:-2]))[:, None]
    return weights.astype(np.float32)


def _mel_spectrogram(audio: np.ndarray) -> np.ndarray:
    """Power mel spectrogram ``(frames, 40)`` as librosa computes it (centred, zero padded).

    Computed in blocks so that an hour of audio never holds its whole complex spectrogram.
    """
    padded = np.pad(audio.astype(np.float32), _N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, _N_FFT)[::_HOP]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(_N_FFT) / _N_FFT)).astype(np.float32)
    filters = _mel_filters().T
    blocks = []
    for first in range(0, len(frames), 4096):
        spectrum = np.fft.rfft(frames[first : first + 4096] * window, axis=1)
        blocks.append((spectrum.real**2 + spectrum.imag**2).astype(np.float32) @ filters)
    return np.concatenate(blocks)


def _lstm_layer(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """One PyTorch LSTM layer (gates i, f, g, o) over ``(batch, time, in)``: all hidden states."""
    batch, steps, _ = x.shape
    hidden = w_hh.shape[0]
    inputs = x @ w_ih + bias  # every step's input projection at once
    h = np.zeros((batch, hidden), np.float32)
    c = np.zeros((batch, hidden), np.float32)
    out = np.empty((batch, steps, hidden), np.float32)
    for t in range(steps):
        gates = inputs[:, t] + h @ w_hh
        i, f, o = (
            0.5 + 0.5 * np.tanh(0.5 * gates[:, k * hidden : (k + 1) * hidden]) for k in (0, 1, 3)
        )
        g = np.tanh(gates[:, 2 * hidden : 3 * hidden])
        c = f * c + i * g
        h = o * np.tanh(c)
        out[:, t] = h
    return out


def _stretches(speech: Sequence[tuple[float, float]], duration: float) -> list[tuple[float, float]]:
    """The stretches sorted, clipped to the audio, overlaps joined, crumbs (< 50 ms) dropped."""
    joined: list[tuple[float, float]] = []
    for a, b in sorted((max(0.0, a), min(b, duration)) for a, b in speech):
        if joined and a <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(b, joined[-1][1]))
        elif b > a:
            joined.append((a, b))
    return [(a, b) for a, b in joined if b - a >= 0.05]


def _windows(
    stretches: Sequence[tuple[float, float]],
) -> tuple[list[tuple[float, float]], np.ndarray]:
    """(start, length) windows every :data:`HOP_S` over each stretch, and each one's stretch.

    A stretch shorter than a window gets one window of its own length (the LSTM simply runs
    fewer frames); a longer one gets a last window ending at its end, so all of it is heard.
    """
    windows: list[tuple[float, float]] = []
    owner: list[int] = []
    for k, (a, b) in enumerate(stretches):
        if b - a <= WINDOW_S:
            starts = [a]
        else:
            starts = list(np.arange(a, b - WINDOW_S + 1e-9, HOP_S))
            if starts[-1] + WINDOW_S < b - 0.05:
                starts.append(b - WINDOW_S)
        windows += [(float(s), min(WINDOW_S, b - a)) for s in starts]
        owner += [k] * len(starts)
    return windows, np.array(owner)


def _reliable(audio: np.ndarray, windows: Sequence[tuple[float, float]]) -> np.ndarray:
    """Which windows may found clusters: the others only join the nearest one.

    A window must last at least :data:`_MIN_FOUNDING_S` and have at least half of its 10 ms
    frames within :data:`_ACTIVE_DB` of its own loud frames (90th percentile; recordings differ
    in level, so the reference is the window's): short windows and windows that are mostly
    pause or breath drift away from their speaker (on JFK's recording the windows over the
    pause after "fellow Americans" formed a cluster of their own).
    """
    frames = audio[: len(audio) // _HOP * _HOP].reshape(-1, _HOP).astype(np.float64)
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)
    reliable = np.zeros(len(windows), bool)
    for k, (a, n) in enumerate(windows):
        window = level[round(a * 100) : round((a + n) * 100)]
        if n >= _MIN_FOUNDING_S and len(window):
            reliable[k] = np.mean(window > np.percentile(window, 90) - _ACTIVE_DB) >= 0.5
    return reliable


def _cluster(embeddings: np.ndarray, reliable: np.ndarray) -> np.ndarray:
    """Average-linkage agglomeration on cosine distance, stopped at :data:`MERGE_DISTANCE`.

    Only ``reliable`` windows (all, if none is) found the clusters, at most
    :data:`_MAX_CLUSTERED` of them, evenly spaced; then every window takes the nearest centroid.
    """
    founders = embeddings[reliable] if reliable.any() else embeddings
    n = len(founders)
    picked = np.linspace(0, n - 1, min(n, _MAX_CLUSTERED)).round().astype(int)
    sample = founders[picked].astype(np.float64)
    distance = 1.0 - sample @ sample.T
    np.fill_diagonal(distance, np.inf)
    sizes = np.ones(len(sample))
    members = [[i] for i in range(len(sample))]
    while True:  # the diagonal and merged-away rows are inf, so this ends
        i, j = np.unravel_index(int(np.argmin(distance)), distance.shape)
        if distance[i, j] > MERGE_DISTANCE:
            break
        merged = (sizes[i] * distance[i] + sizes[j] * distance[j]) / (sizes[i] + sizes[j])
        distance[i], distance[:, i] = merged, merged
        distance[i, i] = np.inf
        distance[j], distance[:, j] = np.inf, np.inf
        sizes[i] += sizes[j]
        members[i] += members[j]
        members[j] = []
    groups = [m for m in members if m]
    centroids = np.stack([_unit(sample[m].mean(axis=0)) for m in groups])
    labels: np.ndarray = np.argmax(embeddings @ centroids.T, axis=1)
    return labels


def _smooth(labels: np.ndarray) -> np.ndarray:
    """Majority vote over :data:`_SMOOTH_WINDOWS` neighbours; a tie keeps the window's label."""
    half = _SMOOTH_WINDOWS // 2
    out = labels.copy()
    for t in range(len(labels)):
        votes = Counter(labels[max(0, t - half) : t + half + 1].tolist())
        best = max(votes.values())
        if votes[int(labels[t])] < best:
            out[t] = votes.most_common(1)[0][0]
    return out


def _confidence(
    embeddings: np.ndarray, labels: np.ndarray, centroids: dict[int, np.ndarray]
) -> np.ndarray:
    """How surely each window belongs to its speaker, in [0, 1].

    ``clip(0.5 + (s_own - s_other) / (2 * MERGE_DISTANCE), 0, 1)``, where ``s_own`` is the
    cosine to the window's own centroid and ``s_other`` the cosine to the nearest other
    centroid, or ``1 - MERGE_DISTANCE`` when there is one speaker (a window that far from the
    centroid could have been another speaker). Equal similarities give 0.5; a margin of the
    merge distance gives 1.
    """
    keys = sorted(centroids)
    similarity = embeddings @ np.stack([centroids[k] for k in keys]).T
    own = similarity[np.arange(len(labels)), [keys.index(int(k)) for k in labels]]
    others = np.where(np.array(keys)[None, :] == labels[:, None], -np.inf, similarity)
    other = others.max(axis=1) if len(keys) > 1 else np.full(len(labels), 1 - MERGE_DISTANCE)
    confidence: np.ndarray = np.clip(0.5 + (own - other) / (2 * MERGE_DISTANCE), 0.0, 1.0)
    return confidence


def _merge(pieces: Sequence[SpeakerTurn]) -> list[SpeakerTurn]:
    """Join consecutive pieces of one speaker (across pauses), weighting confidence by time."""
    turns: list[SpeakerTurn] = []
    for piece in pieces:
        last = turns[-1] if turns else None
        if last is None or last.speaker != piece.speaker:
            turns.append(piece)
            continue
        spoken = (last.end_s - last.start_s) + (piece.end_s - piece.start_s)
        weight = (last.end_s - last.start_s) * last.confidence
        weight += (piece.end_s - piece.start_s) * piece.confidence
        confidence = weight / spoken if spoken > 0 else last.confidence
        turns[-1] = SpeakerTurn(piece.speaker, last.start_s, piece.end_s, confidence)
    return turns


def _unit(vector: np.ndarray) -> np.ndarray:
    """``vector`` scaled to unit length."""
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector
