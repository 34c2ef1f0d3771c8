from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from serverproc import RunningServer


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One real glasspane server shared by the end-to-end tests of a run."""
    running = RunningServer(tmp_path_factory.mktemp("shared") / "data").start()
    yield running
    running.stop()
