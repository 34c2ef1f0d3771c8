"""Storage: the contract in ``api``, one folder per backend."""

from __future__ import annotations

from pathlib import Path

from glasspane.errors import UnsupportedStore
from glasspane.store.api import Store
from glasspane.store.retention import DEFAULT_RETENTION_DAYS


def open_store(url: str, data_dir: Path, retention_days: int = DEFAULT_RETENTION_DAYS) -> Store:
    """The store a ``--store`` URL names; empty means DuckDB in the data directory.

    ``duckdb:///path/file.duckdb``; ``chdb:///path/dir`` (ClickHouse's engine in
    this process; ``chdb://`` alone: ``clickhouse/`` in the data directory); or
    ``clickhouse://user:password@host:8123/database`` (a ClickHouse server;
    ``clickhouses://`` for TLS).
    """
    if not url:
        url = f"duckdb://{(data_dir / 'glasspane.duckdb').resolve()}"
    scheme, sep, rest = url.partition("://")
    if scheme == "duckdb" and sep:
        from glasspane.store.duckdb.store import DuckDBStore

        path = Path(rest) if rest else data_dir / "glasspane.duckdb"
        return DuckDBStore(path, retention_days=retention_days)
    if scheme == "chdb" and sep:
        from glasspane.store.clickhouse.connection import ChdbConnection
        from glasspane.store.clickhouse.store import ClickHouseStore

        folder = Path(rest) if rest else data_dir / "clickhouse"
        return ClickHouseStore(ChdbConnection(folder), retention_days)
    if scheme in ("clickhouse", "clickhouses", "http", "https") and sep:
        from glasspane.store.clickhouse.connection import HttpConnection
        from glasspane.store.clickhouse.store import ClickHouseStore

        return ClickHouseStore(HttpConnection(url), retention_days)
    raise UnsupportedStore(
        f"Store URL {url!r} is not supported; use duckdb:///path/to/file.duckdb, "
        "chdb:///path/to/dir or clickhouse://user:password@host:8123/database"
    )
