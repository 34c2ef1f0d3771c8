"""Where the UI tests' screenshots go (the browser is shared: ``tests/conftest.py``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $GLASSPANE_UI_ARTIFACTS, else the session's tmp dir."""
    chosen = os.environ.get("GLASSPANE_UI_ARTIFACTS")
    path = Path(chosen) if chosen else tmp_path_factory.mktemp("ui-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
