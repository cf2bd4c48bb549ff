"""The exception tree of mien.

Every error mien raises on purpose derives from :class:`MienError`, and each layer has one base::

    MienError
    ├── ConfigError              bad settings or request configuration
    ├── MediaError               an input file cannot be used; fails that file, never the job
    │   ├── UnsupportedMediaError  type not recognised from its bytes
    │   ├── CorruptMediaError      recognised but undecodable, truncated or empty
    │   ├── TooLargeError          over a size, pixel, duration or expansion limit
    │   ├── UnsafeArchiveError     path traversal, links or devices inside an archive
    │   └── FetchError             a URL could not be downloaded
    │       └── BlockedAddressError  the URL resolves to a loopback, private or link-local address
    ├── ModelError               a model cannot run
    │   └── ModelNotAvailableError the model is not built yet or does not apply
    ├── WeightsError             a pinned artifact cannot be had
    │   └── ChecksumError          a file's sha256 differs from the pin
    └── JobNotFoundError         no job with that id

The API maps these to HTTP statuses and stream error codes in one place.
"""

from __future__ import annotations

__all__ = [
    "BlockedAddressError",
    "ChecksumError",
    "ConfigError",
    "CorruptMediaError",
    "FetchError",
    "JobNotFoundError",
    "MediaError",
    "MienError",
    "ModelError",
    "ModelNotAvailableError",
    "TooLargeError",
    "UnsafeArchiveError",
    "UnsupportedMediaError",
    "WeightsError",
]


class MienError(Exception):
    """Base of every error mien raises on purpose."""


class ConfigError(MienError):
    """Settings or a request configuration are invalid."""


class MediaError(MienError):
    """An input cannot be used; the message is shown to the user as the file's error."""


class UnsupportedMediaError(MediaError):
    """The bytes are of no type mien reads."""


class CorruptMediaError(MediaError):
    """The type is known but the content is empty, truncated or undecodable."""


class TooLargeError(MediaError):
    """The input exceeds a configured limit."""


class UnsafeArchiveError(MediaError):
    """An archive member would escape its folder, or is a link or device."""


class FetchError(MediaError):
    """A URL could not be downloaded."""


class BlockedAddressError(FetchError):
    """A URL points at an address that is refused (loopback, private, link-local)."""


class ModelError(MienError):
    """A model cannot run."""


class ModelNotAvailableError(ModelError):
    """The requested model is not built yet, or not available on this install."""


class WeightsError(MienError):
    """A pinned weight artifact cannot be fetched or found."""


class ChecksumError(WeightsError):
    """A file's sha256 does not match its pin."""


class JobNotFoundError(MienError):
    """No job has the given id."""
