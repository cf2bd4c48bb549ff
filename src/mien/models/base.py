"""What the pipeline needs from a model: which inputs it reads, and one file in, one block out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    from mien.media import MediaItem, MediaKind
    from mien.schemas import InferenceRequest, ModelBlock

__all__ = ["BatchModel"]


class BatchModel(Protocol):
    """A loaded model that turns one media file into its prediction block."""

    name: str
    kinds: frozenset[MediaKind]

    def predict_file(
        self, item: MediaItem, request: InferenceRequest, outputs: Path | None = None
    ) -> ModelBlock:
        """Predict on one file; raise a ``MienError`` to fail just this file.

        A model may write extra artifacts (face crops) under ``outputs``, the file's folder in
        the job's artifacts zip; ``None`` when nothing keeps them.
        """
        ...
