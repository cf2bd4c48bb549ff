"""Measured facial signals: blendshapes, lip gap, head pose, gaze, asymmetry, and AU intensities.

These are the only inputs of the 48 dimensions, the FACS items and the descriptions
(:mod:`mien.models.face.dimensions`). Every signal is a number per face in [0, 1], named as in
``assets/face_dimensions.json``: the 52 MediaPipe blendshapes under their own names, a few
geometric and pose signals, the FACS items under their AU ids ("AU12"), and the 7-class expression
probabilities as ``p_<class>`` with their circumplex valence and arousal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mien.models.face.expression import EXPRESSIONS
from mien.models.face.mesh import BLENDSHAPE_NAMES
from mien.models.recipe import Signals, derive

__all__ = ["measure"]

_UPPER_LIP, _LOWER_LIP = 13, 14  # inner-lip midpoints of the 478-point mesh
_FOREHEAD, _CHIN = 10, 152


def measure(
    blendshapes: np.ndarray,
    landmarks: np.ndarray,
    pose: np.ndarray,
    expressions: np.ndarray | None,
    recipe: Mapping[str, Any],
) -> Signals:
    """All signals for ``n`` faces.

    Args:
        blendshapes: ``(n, 52)`` in ``BLENDSHAPE_NAMES`` order.
        landmarks: ``(n, 478, 3)``, any consistent unit (only ratios are used).
        pose: ``(n, 3)`` yaw, pitch, roll in degrees; pitch > 0 is head up.
        expressions: ``(n, 7)`` probabilities from the learned nets in ``EXPRESSIONS`` order, or
            ``None`` when there is no image (a client-sent mesh).
        recipe: the parsed ``face_dimensions.json``.
    """
    signals: Signals = {name: blendshapes[:, i] for i, name in enumerate(BLENDSHAPE_NAMES)}
    signals.update(_geometry(landmarks, recipe))
    signals.update(_pose(pose, recipe))
    signals.update(_gaze_and_asymmetry(signals))
    derive(signals, recipe["facs"])
    signals.update(_expressions(signals, expressions, recipe))
    return signals


def _geometry(landmarks: np.ndarray, recipe: Mapping[str, Any]) -> Signals:
    """Lip gap relative to face height: AU25 where the blendshapes have no lips-apart shape."""
    face_height = np.linalg.norm(landmarks[:, _FOREHEAD, :2] - landmarks[:, _CHIN, :2], axis=1)
    gap = np.linalg.norm(landmarks[:, _UPPER_LIP, :2] - landmarks[:, _LOWER_LIP, :2], axis=1)
    ratio = gap / np.maximum(face_height, 1e-6)
    spec = recipe["lips_apart"]
    return {"lips_apart": np.clip((ratio - spec["offset"]) / spec["scale"], 0.0, 1.0)}


def _pose(pose: np.ndarray, recipe: Mapping[str, Any]) -> Signals:
    """Head movements past a dead zone, so a camera a little above or below reads as level."""
    scale, dead = recipe["pose_scale_deg"], recipe["pose_deadzone_deg"]
    yaw, pitch, roll = pose[:, 0], pose[:, 1], pose[:, 2]

    def past(angle: np.ndarray, name: str) -> np.ndarray:
        moved: np.ndarray = np.clip((angle - dead) / scale[name], 0.0, 1.0)
        return moved

    return {
        "head_up": past(pitch, "head_up"),
        "head_down": past(-pitch, "head_down"),
        "head_tilt": past(np.abs(roll), "head_tilt"),
        "head_turn": past(np.abs(yaw), "head_turn"),
    }


def _gaze_and_asymmetry(s: Signals) -> Signals:
    """Gaze direction from the eye-look shapes; one-sided smiles and brows from left-right gaps."""
    right = (s["eyeLookOutLeft"] + s["eyeLookInRight"]) / 2
    left = (s["eyeLookInLeft"] + s["eyeLookOutRight"]) / 2
    smile = np.abs(s["mouthSmileLeft"] - s["mouthSmileRight"])
    dimple = np.abs(s["mouthDimpleLeft"] - s["mouthDimpleRight"])
    brow_up = np.abs(s["browOuterUpLeft"] - s["browOuterUpRight"])
    brow_down = np.abs(s["browDownLeft"] - s["browDownRight"])
    return {
        "gaze_up": (s["eyeLookUpLeft"] + s["eyeLookUpRight"]) / 2,
        "gaze_down": (s["eyeLookDownLeft"] + s["eyeLookDownRight"]) / 2,
        "gaze_side": np.abs(right - left),
        "smile_asym": np.clip(smile + dimple / 2, 0.0, 1.0),
        "brow_asym": np.clip(brow_up + brow_down, 0.0, 1.0),
    }


def _expressions(s: Signals, nets: np.ndarray | None, recipe: Mapping[str, Any]) -> Signals:
    """7-class probabilities: the nets blended with the EMFACS estimate, plus valence/arousal."""
    emfacs = recipe["emfacs"]
    n = len(s["AU1"])
    logits = np.empty((n, len(EXPRESSIONS)))
    for i, label in enumerate(EXPRESSIONS):
        aus = emfacs["classes"].get(label)
        match = np.mean([s[au] for au in aus], axis=0) if aus else np.full(n, emfacs["neutral"])
        logits[:, i] = emfacs["gain"] * match
    estimate = np.exp(logits - logits.max(axis=1, keepdims=True))
    estimate /= estimate.sum(axis=1, keepdims=True)
    if nets is not None:
        weight = emfacs["net_weight"]
        estimate = weight * nets + (1 - weight) * estimate
    coords = np.array([recipe["circumplex"][label] for label in EXPRESSIONS])
    valence, arousal = (estimate @ coords).T
    out: Signals = {f"p_{label}": estimate[:, i] for i, label in enumerate(EXPRESSIONS)}
    out["valence_pos"] = np.clip(valence, 0.0, 1.0)
    out["valence_neg"] = np.clip(-valence, 0.0, 1.0)
    out["arousal_high"] = np.clip(arousal, 0.0, 1.0)
    out["arousal_low"] = np.clip(-arousal, 0.0, 1.0)
    return out
