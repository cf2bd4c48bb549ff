"""mien: open, self-hosted expression measurement for face, voice and language.

Wire-compatible with Hume's v0 Expression Measurement API; runs offline on a CPU.
"""

from __future__ import annotations

__version__ = "0.4.0"

__all__ = ["__version__"]
