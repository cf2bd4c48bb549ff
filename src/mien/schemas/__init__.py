"""Pydantic models of the v0 wire format."""

from __future__ import annotations

from mien.schemas.common import *  # noqa: F403
from mien.schemas.config import *  # noqa: F403
from mien.schemas.jobs import *  # noqa: F403
from mien.schemas.predictions import *  # noqa: F403
from mien.schemas.stream import *  # noqa: F403
