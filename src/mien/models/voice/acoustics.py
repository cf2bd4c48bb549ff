"""A permissively licensed acoustic front-end: pitch, loudness and voice quality, numpy only.

The usual tools are unusable in the default install (openSMILE is non-commercial, Praat is GPL),
so this module re-implements the eGeMAPS-style low-level descriptors we need, every 10 ms:

* F0 with YIN (de Cheveigné & Kawahara 2002): the cumulative-mean-normalised difference function
  over a 30 ms window, lags for 60-600 Hz, the first dip under a threshold, parabolic
  interpolation, then octave jumps folded back onto an 11-frame running median and voiced runs
  shorter than 30 ms dropped;
* loudness as the RMS level of a 25 ms window in dBFS (a full-scale square wave reads 0 dB);
* HNR from the normalised cross-correlation ``r`` at the pitch lag: ``10 log10(r / (1 - r))``;
* alpha ratio, Hammarberg index, spectral slope and centroid from a 32 ms Hann power spectrum.

:func:`span_features` then summarises any stretch (word, sentence, turn) like eGeMAPS' functionals.
Everything is vectorised over frames in blocks, so an hour of audio never sits in one matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mien.media.audio import SAMPLE_RATE_HZ

__all__ = ["FRAME_RATE_HZ", "SPAN_FEATURES", "Frames", "frames", "span_features"]

FRAME_RATE_HZ = 100
"""Frames per second: one row of :class:`Frames` per 10 ms."""
HOP = SAMPLE_RATE_HZ // FRAME_RATE_HZ

F0_MIN_HZ = 60.0
F0_MAX_HZ = 600.0
_TAU_MIN = int(SAMPLE_RATE_HZ / F0_MAX_HZ)  # 26 samples
_TAU_MAX = int(np.ceil(SAMPLE_RATE_HZ / F0_MIN_HZ))  # 267 samples
_YIN_WINDOW = 480  # 30 ms: two periods of the lowest F0
_PICK_THRESHOLD = 0.15  # YIN's absolute threshold for the first dip
_VOICED_THRESHOLD = 0.35  # aperiodicity above which a frame is unvoiced
_MIN_RUN = 3  # voiced runs shorter than this many frames are dropped as blips
_MEDIAN_FRAMES = 11  # running median that octave jumps are folded back onto
_RMS_WINDOW = 400  # 25 ms
_FFT = 512  # 32 ms Hann window, 31.25 Hz bins
_SEGMENT = _YIN_WINDOW + _TAU_MAX + 1  # samples each frame reads, centred on the frame
_BLOCK = 2048  # frames per vectorised block (about 6 MB of float32 per matrix)

FLOOR_DB = -100.0
"""Loudness of digital silence (dBFS)."""
_GATE_DB = -80.0  # frames quieter than this are never voiced (or always pauses)
_RELATIVE_GATE_DB = 45.0  # nor those this far below the loudest frames (99th percentile)
_PAUSE_BELOW_PEAK_DB = 35.0  # span frames this far below the span's 95th percentile are pauses
_F0_REF_HZ = 27.5  # semitone reference (A0), as in eGeMAPS
_HNR_LIMIT_DB = 40.0

_FREQS = np.fft.rfftfreq(_FFT, 1 / SAMPLE_RATE_HZ)
_LOW = (_FREQS >= 50) & (_FREQS < 1000)
_HIGH = (_FREQS >= 1000) & (_FREQS < 5000)
_BELOW_2K = _FREQS < 2000
_FROM_2K = (_FREQS >= 2000) & (_FREQS < 5000)
_SLOPE_BAND = (_FREQS >= 500) & (_FREQS <= 1500)
_HANN = np.hanning(_FFT + 1)[:-1].astype(np.float32)  # periodic
_EPS = 1e-12


@dataclass(frozen=True)
class Frames:
    """Low-level descriptors, one row per 10 ms frame; frame ``i`` covers ``[i, i + 1) * 10 ms``."""

    f0_hz: np.ndarray
    """Fundamental frequency; 0 where unvoiced."""
    voiced: np.ndarray
    """Whether the frame is periodic enough (and loud enough) to carry a pitch."""
    loudness_db: np.ndarray
    """RMS level of 25 ms around the frame, dBFS (20 log10 RMS), floored at ``FLOOR_DB``."""
    hnr_db: np.ndarray
    """Harmonics-to-noise ratio from the normalised correlation at the pitch lag; 0 if unvoiced."""
    alpha_ratio_db: np.ndarray
    """Energy in 1-5 kHz over energy in 50-1000 Hz (eGeMAPS), dB; rises with vocal effort."""
    hammarberg_db: np.ndarray
    """Strongest bin in 0-2 kHz over strongest bin in 2-5 kHz, dB; falls with vocal effort."""
    spectral_slope: np.ndarray
    """Regression slope of the dB power spectrum over 500-1500 Hz, dB per kHz (eGeMAPS band)."""
    centroid_hz: np.ndarray
    """Power-weighted mean frequency of the spectrum."""


def frames(audio: np.ndarray) -> Frames:
    """Describe 16 kHz mono audio frame by frame, ``ceil(len / 160)`` frames.

    Chunks whose length is a multiple of 160 samples concatenate to the frames of the whole.
    """
    samples = np.asarray(audio, dtype=np.float32).reshape(-1)
    count = -(-len(samples) // HOP)
    left = _SEGMENT // 2 - HOP // 2
    padded = np.pad(samples, (left, count * HOP - len(samples) + _SEGMENT))
    windows = sliding_window_view(padded, _SEGMENT)[::HOP][:count]
    parts = [_describe(windows[i : i + _BLOCK]) for i in range(0, max(count, 1), _BLOCK)]
    cols = [np.concatenate(col)[:count] for col in zip(*parts, strict=True)]
    loudness, tau, aperiodicity, nccf = cols[0], cols[1], cols[2], cols[3]
    loudest = float(np.percentile(loudness, 99)) if count else FLOOR_DB
    gate = max(_GATE_DB, loudest - _RELATIVE_GATE_DB)
    voiced = _drop_blips((aperiodicity < _VOICED_THRESHOLD) & (loudness > gate))
    f0 = np.where(voiced, SAMPLE_RATE_HZ / np.maximum(tau, 1.0), 0.0)
    f0 = _fold_octaves(f0, voiced)
    r = np.clip(nccf, 1e-4, 1 - 1e-4)
    hnr = np.clip(10 * np.log10(r / (1 - r)), -_HNR_LIMIT_DB, _HNR_LIMIT_DB)
    return Frames(
        f0_hz=f0.astype(np.float32),
        voiced=voiced,
        loudness_db=loudness.astype(np.float32),
        hnr_db=np.where(voiced, hnr, 0.0).astype(np.float32),
        alpha_ratio_db=cols[4].astype(np.float32),
        hammarberg_db=cols[5].astype(np.float32),
        spectral_slope=cols[6].astype(np.float32),
        centroid_hz=cols[7].astype(np.float32),
    )


def _describe(windows: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per-frame loudness, YIN lag/aperiodicity/correlation and spectral shape of one block."""
    x = windows.astype(np.float64)
    mid = _SEGMENT // 2
    core = x[:, mid - _RMS_WINDOW // 2 : mid + _RMS_WINDOW // 2]
    rms = np.sqrt(np.mean(core * core, axis=1))
    loudness = np.maximum(20 * np.log10(rms + _EPS), FLOOR_DB)
    tau, aperiodicity, nccf = _yin(x)
    spectrum = np.abs(np.fft.rfft(x[:, mid - _FFT // 2 : mid + _FFT // 2] * _HANN, axis=1)) ** 2
    spectrum += _EPS
    alpha = 10 * np.log10(spectrum[:, _HIGH].sum(1) / spectrum[:, _LOW].sum(1))
    hammarberg = 10 * np.log10(spectrum[:, _BELOW_2K].max(1) / spectrum[:, _FROM_2K].max(1))
    band = 10 * np.log10(spectrum[:, _SLOPE_BAND])
    khz = _FREQS[_SLOPE_BAND] / 1000
    khz = khz - khz.mean()
    slope = (band - band.mean(1, keepdims=True)) @ khz / (khz @ khz)
    centroid = spectrum @ _FREQS / spectrum.sum(1)
    return loudness, tau, aperiodicity, nccf, alpha, hammarberg, slope, centroid


def _yin(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """YIN over a block of segments: fractional lag, aperiodicity and correlation at that lag."""
    n = len(x)
    size = 1024  # >= _SEGMENT, so the circular correlation equals the linear one for our lags
    head = np.fft.rfft(x[:, :_YIN_WINDOW], size, axis=1)
    whole = np.fft.rfft(x, size, axis=1)
    cross = np.fft.irfft(np.conj(head) * whole, size, axis=1)[:, : _TAU_MAX + 2]
    squares = np.concatenate([np.zeros((n, 1)), np.cumsum(x * x, axis=1)], axis=1)
    lags = np.arange(_TAU_MAX + 2)
    energy = squares[:, lags + _YIN_WINDOW] - squares[:, lags]  # energy of x[tau : tau + W]
    e0 = energy[:, :1]
    diff = np.maximum(e0 + energy - 2 * cross, 0.0)
    running = np.cumsum(diff[:, 1:], axis=1) / lags[1:]
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] / np.maximum(running, _EPS)
    cmnd[running[:, -1] < _EPS] = 1.0  # digital silence: no periodicity at all
    search = cmnd[:, _TAU_MIN : _TAU_MAX + 1]
    below = search < _PICK_THRESHOLD
    gaps = np.cumsum(~below, axis=1)
    first = np.argmax(below, axis=1)
    in_first_dip = below & (gaps == gaps[np.arange(n), first][:, None])
    best = np.where(below.any(1), np.argmin(np.where(in_first_dip, search, np.inf), 1), 0)
    best = np.where(below.any(1), best, np.argmin(search, 1)) + _TAU_MIN
    rows = np.arange(n)
    prev, here, nxt = (cmnd[rows, best + k] for k in (-1, 0, 1))
    curvature = prev - 2 * here + nxt
    shift = np.where(curvature > _EPS, 0.5 * (prev - nxt) / np.maximum(curvature, _EPS), 0.0)
    tau = best + np.clip(shift, -0.5, 0.5)
    nccf = cross[rows, best] / np.sqrt(np.maximum(e0[:, 0] * energy[rows, best], _EPS))
    return tau, here, nccf


def _drop_blips(voiced: np.ndarray) -> np.ndarray:
    """Unvoice runs of fewer than ``_MIN_RUN`` frames: isolated periodic frames are noise."""
    edges = np.diff(np.concatenate([[0], voiced.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    keep = voiced.copy()
    for start, end in zip(starts, ends, strict=True):
        if end - start < _MIN_RUN:
            keep[start:end] = False
    return keep


def _fold_octaves(f0: np.ndarray, voiced: np.ndarray) -> np.ndarray:
    """Move each voiced F0 by whole octaves to the nearest octave of the local running median."""
    if not voiced.any():
        return f0
    log_f0 = np.where(voiced, np.log2(np.maximum(f0, _EPS)), np.nan)
    half = _MEDIAN_FRAMES // 2
    padded = np.pad(log_f0, half, constant_values=np.nan)
    view = sliding_window_view(padded, _MEDIAN_FRAMES)
    counts = np.sum(~np.isnan(view), axis=1)
    median = np.full(len(f0), np.nan)
    usable = voiced & (counts > 0)
    median[usable] = np.nanmedian(view[usable], axis=1)
    octaves = np.where(usable, np.round(log_f0 - median), 0.0)
    folded = np.exp2(np.where(voiced, log_f0 - octaves, 0.0))
    return np.where(voiced, np.clip(folded, F0_MIN_HZ, F0_MAX_HZ), 0.0)


SPAN_FEATURES: tuple[str, ...] = (
    "f0_mean_st",
    "f0_std_st",
    "f0_range_st",
    "f0_slope_st_per_s",
    "loudness_mean_db",
    "loudness_std_db",
    "loudness_peaks_per_s",
    "jitter_local",
    "shimmer_local_db",
    "hnr_mean_db",
    "alpha_ratio_db",
    "hammarberg_db",
    "spectral_slope",
    "centroid_hz",
    "voiced_fraction",
    "pause_fraction",
    "rate_per_s",
)
"""Names of :func:`span_features`' functionals, in a fixed order (a feature vector's columns)."""


def span_features(
    f: Frames, start_s: float, end_s: float, *, words: int | None = None
) -> dict[str, float]:
    """eGeMAPS-style functionals of the frames in ``[start_s, end_s)``, never NaN.

    * F0 in semitones re 27.5 Hz over voiced frames: mean, std, 20th-80th percentile range and
      regression slope (semitones per second).
    * Loudness (dBFS) over all frames: mean, std, and peaks per second (local maxima of the
      30 ms-smoothed contour above the span's mean).
    * Jitter and shimmer are frame-level approximations, not Praat's cycle-to-cycle measures: the
      mean absolute change of the pitch period between consecutive voiced frames over the mean
      period, and the mean absolute change of frame level (dB) between consecutive voiced frames.
      Both are therefore smaller and smoother than Praat's; compare them only with each other.
    * HNR, alpha ratio, Hammarberg index and spectral slope: means over voiced frames (as
      eGeMAPS); centroid: mean over non-pause frames.
    * Voiced fraction, pause fraction (frames 35 dB below the span's 95th-percentile level, or
      under -80 dBFS), and rate: ``words`` per second when given, else voiced runs per second.

    Neutral values: with no voiced frame every voice-dependent feature is 0.0 (read
    ``voiced_fraction`` first); an empty span has loudness ``FLOOR_DB`` and pause fraction 1.
    """
    first = max(0, int(np.ceil(start_s * FRAME_RATE_HZ - 1e-9)))
    last = min(len(f.voiced), int(np.ceil(end_s * FRAME_RATE_HZ - 1e-9)))
    out = dict.fromkeys(SPAN_FEATURES, 0.0)
    duration = max(end_s - start_s, 1e-9)
    if words is not None:
        out["rate_per_s"] = words / duration
    if last <= first:
        out["loudness_mean_db"] = FLOOR_DB
        out["pause_fraction"] = 1.0
        return out
    span = slice(first, last)
    voiced = f.voiced[span]
    loudness = f.loudness_db[span].astype(np.float64)
    gate = max(_GATE_DB, float(np.percentile(loudness, 95)) - _PAUSE_BELOW_PEAK_DB)
    sounding = loudness > gate
    out["loudness_mean_db"] = float(loudness.mean())
    out["loudness_std_db"] = float(loudness.std())
    out["loudness_peaks_per_s"] = _peaks(loudness) / duration
    out["voiced_fraction"] = float(voiced.mean())
    out["pause_fraction"] = float(1 - sounding.mean())
    if sounding.any():
        out["centroid_hz"] = float(f.centroid_hz[span][sounding].mean())
    runs = int(np.sum(np.diff(np.concatenate([[0], voiced.astype(np.int8)])) == 1))
    if words is None:
        out["rate_per_s"] = runs / duration
    if voiced.any():
        out.update(_voice(f, span, voiced))
    return out


def _voice(f: Frames, span: slice, voiced: np.ndarray) -> dict[str, float]:
    """The functionals that need voiced frames."""
    f0 = f.f0_hz[span].astype(np.float64)
    times = np.flatnonzero(voiced) / FRAME_RATE_HZ
    semitones = 12 * np.log2(f0[voiced] / _F0_REF_HZ)
    low, high = np.percentile(semitones, [20, 80])
    slope = 0.0
    if len(times) > 1 and np.ptp(times) > 0:
        slope = float(np.polyfit(times, semitones, 1)[0])
    pairs = voiced[1:] & voiced[:-1]  # consecutive voiced frames
    jitter = shimmer = 0.0
    if pairs.any():
        period = 1 / np.where(voiced, f0, 1.0)
        jitter = float(np.mean(np.abs(np.diff(period))[pairs]) / np.mean(period[voiced]))
        shimmer = float(np.mean(np.abs(np.diff(f.loudness_db[span].astype(np.float64)))[pairs]))
    return {
        "f0_mean_st": float(semitones.mean()),
        "f0_std_st": float(semitones.std()),
        "f0_range_st": float(high - low),
        "f0_slope_st_per_s": slope,
        "jitter_local": jitter,
        "shimmer_local_db": shimmer,
        "hnr_mean_db": float(f.hnr_db[span][voiced].mean()),
        "alpha_ratio_db": float(f.alpha_ratio_db[span][voiced].mean()),
        "hammarberg_db": float(f.hammarberg_db[span][voiced].mean()),
        "spectral_slope": float(f.spectral_slope[span][voiced].mean()),
    }


def _peaks(loudness: np.ndarray) -> int:
    """Local maxima of the 3-frame-smoothed loudness contour above its mean."""
    if len(loudness) < 3:
        return 0
    smooth = np.convolve(loudness, np.ones(3) / 3, mode="same")
    inner = smooth[1:-1]
    peaks = (inner > smooth[:-2]) & (inner >= smooth[2:]) & (inner > loudness.mean())
    return int(peaks.sum())
