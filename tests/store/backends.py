"""The store backends every store test runs against.

DuckDB and ClickHouse's engine in-process (chDB) always; a real ClickHouse
server too when ``GLASSPANE_TEST_CLICKHOUSE_URL`` names one
(``clickhouse://user:password@host:8123``): each store then gets a database of
its own there, dropped when it closes.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from glasspane.store import open_store
from glasspane.store.api import Store

SERVER_URL = os.environ.get("GLASSPANE_TEST_CLICKHOUSE_URL", "").rstrip("/")
BACKENDS = ["duckdb", "chdb", *(["clickhouse"] if SERVER_URL else [])]

#: Test data is stamped from 1970 to now: keep all of it (and stay within
#: ClickHouse DateTime, which ends in 2106).
RETENTION_DAYS = 25000


def store_url(backend: str, folder: Path) -> str:
    if backend == "clickhouse":
        return f"{SERVER_URL}/glasspane_test_{uuid.uuid4().hex[:12]}"
    return f"{backend}://{folder / 'store.db'}"


def open_backend(
    backend: str, folder: Path, url: str | None = None, retention_days: int = RETENTION_DAYS
) -> Store:
    return open_store(url or store_url(backend, folder), folder, retention_days)


def drop(url: str) -> None:
    """Drop a server test database."""
    from glasspane.store.clickhouse.connection import HttpConnection

    conn = HttpConnection(url)
    conn.execute(f"DROP DATABASE IF EXISTS {conn.database}")
    conn.close()
