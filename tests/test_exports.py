"""Every module's ``__all__`` names exist, so the public surface and the code can't drift apart."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import mien

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(mien.__path__, prefix="mien.")
    if info.name != "mien.__main__"
)  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    missing = [item for item in getattr(module, "__all__", []) if not hasattr(module, item)]
    assert missing == []
