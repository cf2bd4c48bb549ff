"""Settings read from the environment, and the values derived from them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mien.settings import Settings


def test_environment_and_derived_values(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MIEN_HOME", str(tmp_path))
    monkeypatch.setenv("MIEN_API_KEYS", " one, two ,,")
    monkeypatch.setenv("MIEN_CORS_ORIGINS", "https://a.example,https://b.example")
    settings = Settings()
    assert settings.api_keys == ["one", "two"]
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'mien.db'}"
    assert settings.models_dir == tmp_path / "models"
    assert Settings(home=tmp_path, cache_dir=tmp_path / "c").models_dir == tmp_path / "c"


def test_workers_share_the_cores_unless_threads_is_set() -> None:
    cores = os.cpu_count() or 1
    assert Settings(workers=1).model_threads == 0
    assert Settings(workers=2).model_threads == max(1, cores // 2)
    assert Settings(workers=64).model_threads == max(1, cores // 64)
    assert Settings(workers=2, threads=3).model_threads == 3
