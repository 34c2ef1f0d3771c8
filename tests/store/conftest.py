"""Every store test runs once per backend (see ``backends.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from glasspane.store.api import Store
from store.backends import BACKENDS, drop, open_backend, store_url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def url(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of this test's store (to reopen it)."""
    url = store_url(backend, tmp_path)
    yield url
    if backend == "clickhouse":
        drop(url)


@pytest.fixture
def store(backend: str, url: str, tmp_path: Path) -> Iterator[Store]:
    opened = open_backend(backend, tmp_path, url)
    yield opened
    opened.close()
