"""Read a legacy (pre-1.6, non-zip) torch checkpoint into numpy arrays, without torch.

Resemblyzer's ``pretrained.pt`` is in torch's legacy format: a magic-number pickle, a protocol
pickle, a system-info pickle, the pickled object whose tensors refer to storages by persistent
id, a pickled list of storage keys, then each storage as an int64 element count and raw
little-endian bytes. Tensors are rebuilt as strided numpy views of those storages. The unpickler
only admits the handful of globals a state dict needs, so a checkpoint cannot run code.
"""

from __future__ import annotations

import pickle
import struct
from collections import OrderedDict
from pathlib import Path
from typing import IO, Any

import numpy as np

from mien.errors import WeightsError

__all__ = ["load_legacy_checkpoint"]

_MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _Storage:
    """A storage named in the pickle, filled with its bytes once the pickle has been read."""

    def __init__(self, dtype: type[np.generic]) -> None:
        self.dtype = np.dtype(dtype)
        self.data = np.empty(0, self.dtype)


class _Tensor:
    """A tensor waiting for its storage: materialised after the storages are read."""

    def __init__(
        self, storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...]
    ):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def array(self) -> np.ndarray:
        """Copy out the strided view (shape ``size``) of the storage."""
        item = self.storage.dtype.itemsize
        return np.lib.stride_tricks.as_strided(
            self.storage.data[self.offset :],
            shape=self.size,
            strides=tuple(s * item for s in self.stride),
        ).copy()


def _rebuild_tensor_v2(
    storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_: Any
) -> _Tensor:
    return _Tensor(storage, offset, tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: IO[bytes]) -> None:
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if module == "torch" and name in _DTYPES:
            return _DTYPES[name]
        raise pickle.UnpicklingError(f"checkpoint refers to a forbidden global {module}.{name}")

    def persistent_load(self, pid: Any) -> _Storage:
        _, dtype, key, _location, *_ = pid
        return self.storages.setdefault(key, _Storage(dtype))


def load_legacy_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint's top-level dict, every tensor in it (one level deep) as a numpy array.

    Raises:
        WeightsError: the file is not a readable legacy torch checkpoint.
    """
    with path.open("rb") as file:
        try:
            if pickle.load(file) != _MAGIC:  # plain ints and dicts
                raise WeightsError(f"{path} is not a legacy torch checkpoint")
            pickle.load(file)  # protocol version
            pickle.load(file)  # system info (little-endian, type sizes)
            unpickler = _Unpickler(file)
            result = unpickler.load()
            keys = _Unpickler(file).load()
            for key in keys:
                storage = unpickler.storages[key]
                (count,) = struct.unpack("<q", file.read(8))
                raw = file.read(count * storage.dtype.itemsize)
                storage.data = np.frombuffer(raw, storage.dtype.newbyteorder("<"), count)
        except (pickle.UnpicklingError, EOFError, KeyError, ValueError, struct.error) as exc:
            raise WeightsError(f"{path} is not a readable torch checkpoint: {exc}") from exc
    return {k: _materialise(v) for k, v in result.items()}


def _materialise(value: Any) -> Any:
    if isinstance(value, _Tensor):
        return value.array()
    if isinstance(value, dict):
        return {k: _materialise(v) for k, v in value.items()}
    return value
