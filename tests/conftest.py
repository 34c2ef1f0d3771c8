from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from serverproc import RunningServer

#: The stores the shared end-to-end server runs on: every test that uses it runs
#: once per store (GLASSPANE_TEST_STORES=duckdb runs DuckDB only).
STORES = os.environ.get("GLASSPANE_TEST_STORES", "duckdb,chdb").split(",")


@pytest.fixture(scope="session", params=STORES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """One real glasspane server per store, shared by the end-to-end tests of a run."""
    folder = tmp_path_factory.mktemp(f"shared-{request.param}")
    store = () if request.param == "duckdb" else ("--store", f"chdb://{folder / 'chdb'}")
    running = RunningServer(folder / "data", None, *store).start()
    yield running
    running.stop()
