"""Run TensorFlow Lite models (MediaPipe's and others' shipped ``.tflite`` files) with LiteRT.

The registry packages ship these models as ``.tflite``; LiteRT runs them as they are, so nothing
is converted and the pinned sha256 covers exactly what runs. One interpreter per model per
process; a batch resizes the input's first axis, and the resized interpreter is kept for the next
batch of the same size.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from mien.errors import ModelNotAvailableError

__all__ = ["TFLiteModel"]


class TFLiteModel:
    """One ``.tflite`` model, callable on a batch of inputs."""

    def __init__(self, model: Path | bytes, *, threads: int = 0, batchable: bool = True) -> None:
        """Load the model on ``threads`` threads (0: all cores).

        ``batchable=False`` is for models whose graph cannot be resized to a batch (MediaPipe's
        blendshape model); those run item by item.
        """
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:  # pragma: no cover - a wheel exists for every platform we list
            raise ModelNotAvailableError(
                "the face models need LiteRT (pip install ai-edge-litert), which has no wheel "
                "for this platform"
            ) from exc
        content = model.read_bytes() if isinstance(model, Path) else model
        self._interpreter = Interpreter(
            model_content=content, num_threads=threads or os.cpu_count() or 1
        )
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]
        self._outputs = self._interpreter.get_output_details()
        self._batch = int(self._input["shape"][0])
        self.batchable = batchable
        self._lock = threading.Lock()  # an interpreter is not re-entrant

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input item, without the batch axis."""
        return tuple(int(n) for n in self._input["shape"][1:])

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        """Run ``batch`` (first axis = items) and return every output, in the model's order."""
        batch = np.ascontiguousarray(batch, dtype=self._input["dtype"])
        if not self.batchable:
            return self._run(batch)
        with self._lock:
            if batch.shape[0] != self._batch:
                self._interpreter.resize_tensor_input(self._input["index"], list(batch.shape))
                self._interpreter.allocate_tensors()
                self._batch = batch.shape[0]
            self._interpreter.set_tensor(self._input["index"], batch)
            self._interpreter.invoke()
            return [self._interpreter.get_tensor(o["index"]).copy() for o in self._outputs]

    def _run(self, batch: np.ndarray) -> list[np.ndarray]:
        """One item at a time, outputs stacked on a new first axis."""
        results: list[list[np.ndarray]] = []
        with self._lock:
            for item in batch:
                self._interpreter.set_tensor(self._input["index"], item[None])
                self._interpreter.invoke()
                results.append(
                    [self._interpreter.get_tensor(o["index"]).copy() for o in self._outputs]
                )
        return [np.stack([r[i] for r in results]) for i in range(len(self._outputs))]
