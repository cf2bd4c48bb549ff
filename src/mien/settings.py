"""Runtime settings, read from ``MIEN_*`` environment variables.

There is no module-level instance: the CLI and ``create_app`` build one and pass it down, so tests
can run several servers with different settings in one process.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings"]

MIB = 1024 * 1024


class Settings(BaseSettings):
    """Everything an operator can set. Sizes are in bytes, durations in seconds."""

    model_config = SettingsConfigDict(env_prefix="MIEN_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".mien")
    """Folder that holds everything the server keeps: database, uploads, artifacts, weights."""
    database_url: str | None = None
    """Any SQLAlchemy URL; default is a SQLite file in ``home``."""
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Accepted API keys (comma-separated in the environment). Empty means an open server."""
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Browser origins allowed to call the API from other sites (comma-separated; ``*`` for any)."""
    server_id: str | None = None
    """This server's name in the job table; default: an id kept in ``home``. Set one per server
    when several servers share a database and a ``home`` on shared storage."""
    workers: int = Field(default=1, ge=1)
    """Worker processes that run batch jobs; each loads its models once."""
    cache_dir: Path | None = None
    """Where fetched weights are kept; default ``home/models``. Several homes may share one."""
    threads: int = Field(default=0, ge=0)
    """CPU threads each model may use per call; 0 means automatic (see ``model_threads``)."""
    weights_dir: Path | None = None
    """A folder of pre-pulled artifacts for air-gapped installs, checked by sha256."""
    whisper_model: Literal["base", "tiny.en"] = "base"
    """Transcription model: multilingual ``base`` (language detection) or the faster,
    English-only ``tiny.en`` (docs/models/transcription.md)."""

    max_file_bytes: int = Field(default=1024 * MIB, ge=1)
    """Largest upload, URL download or archive member."""
    max_archive_bytes: int = Field(default=4096 * MIB, ge=1)
    """Largest total size of an archive's expanded members."""
    max_archive_members: int = Field(default=10_000, ge=1)
    max_compression_ratio: float = Field(default=200.0, gt=1)
    """Expanded/compressed ratio above which an archive is treated as a decompression bomb."""
    max_text_chars: int = Field(default=1_000_000, ge=1)
    """Longest text accepted in a batch job, per text or text file."""

    url_timeout_s: float = Field(default=60.0, gt=0)
    allow_private_urls: bool = False
    """Allow URLs that resolve to loopback, private or link-local addresses (off: SSRF guard)."""

    callback_attempts: int = Field(default=5, ge=1)
    callback_backoff_s: float = Field(default=1.0, ge=0)
    stream_idle_timeout_s: float = Field(default=60.0, gt=0)
    """Seconds without a message after which the streaming socket is closed (v0: one minute)."""

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``home/mien.db``."""
        return self.database_url or f"sqlite:///{self.home / 'mien.db'}"

    @property
    def model_threads(self) -> int:
        """Threads per model call: ``threads`` if set, else the cores shared among the workers.

        0 (the runtime's default: all cores) for a single worker.
        """
        if self.threads or self.workers == 1:
            return self.threads
        return max(1, (os.cpu_count() or 1) // self.workers)

    @property
    def models_dir(self) -> Path:
        """Cache of fetched weight artifacts."""
        return self.cache_dir or self.home / "models"

    @property
    def jobs_dir(self) -> Path:
        """Per-job folders with inputs and artifacts."""
        return self.home / "jobs"
