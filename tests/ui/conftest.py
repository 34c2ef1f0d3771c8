"""The UI tests' page (a fresh browser context each) and where their screenshots go
(the browser itself is shared: ``tests/conftest.py``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $GLASSPANE_UI_ARTIFACTS, else the session's tmp dir."""
    chosen = os.environ.get("GLASSPANE_UI_ARTIFACTS")
    path = Path(chosen) if chosen else tmp_path_factory.mktemp("ui-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page in a context of its own (1280×900, 15 s timeouts); the test fails if the
    page raised a JavaScript error or logged one to the console."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(str(error)))
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    yield opened
    context.close()
    assert not problems, f"the browser reported errors: {problems}"
