from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from serverproc import RunningServer

#: The stores the shared end-to-end server runs on: every test that uses it runs
#: once per store (GLASSPANE_TEST_STORES=duckdb runs DuckDB only).
STORES = os.environ.get("GLASSPANE_TEST_STORES", "duckdb,chdb").split(",")
#: A real ClickHouse server, when one is configured, is one more store.
CLICKHOUSE_URL = os.environ.get("GLASSPANE_TEST_CLICKHOUSE_URL", "").rstrip("/")
if CLICKHOUSE_URL and "clickhouse" not in STORES:
    STORES.append("clickhouse")


def store_flags(store: str, folder: Path) -> tuple[str, ...]:
    """``--store`` for a server of ``store`` with its data under ``folder``."""
    if store == "duckdb":
        return ()
    if store == "chdb":
        return ("--store", f"chdb://{folder / 'chdb'}")
    return ("--store", f"{CLICKHOUSE_URL}/glasspane_e2e_{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="session", params=STORES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """One real glasspane server per store, shared by the end-to-end tests of a run."""
    folder = tmp_path_factory.mktemp(f"shared-{request.param}")
    running = RunningServer(folder / "data", None, *store_flags(request.param, folder)).start()
    yield running
    running.stop()
