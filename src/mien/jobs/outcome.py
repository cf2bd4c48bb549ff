"""What a batch job's work function hands back to the executor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["JobOutcome"]


@dataclass(frozen=True)
class JobOutcome:
    """The result of one finished job run; pickled from the worker process to the server."""

    predictions: list[dict[str, Any]]
    """Wire ``UnionPredictResult`` dicts, one per source, as GET …/predictions returns them."""
    num_predictions: int
    """Sources that produced predictions (v0 ``num_predictions``)."""
    num_errors: int
    """Sources that failed (v0 ``num_errors``)."""
