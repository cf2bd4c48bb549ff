"""The expression models, one module each, behind one registry."""

from __future__ import annotations

from mien.models.registry import (
    MODEL_KINDS,
    applies,
    available_models,
    describe_models,
    load_model,
)

__all__ = ["MODEL_KINDS", "applies", "available_models", "describe_models", "load_model"]
