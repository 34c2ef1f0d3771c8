"""Storage: the contracts in ``api``, the read models in ``models``, one folder per backend."""

from __future__ import annotations

from pathlib import Path

from glasspane.errors import UnsupportedStore
from glasspane.store.api import Store
from glasspane.store.retention import DEFAULT_RETENTION_DAYS

#: URL schemes naming a ClickHouse server (``clickhouses`` and ``https``: TLS).
SERVER_SCHEMES = ("clickhouse", "clickhouses", "http", "https")


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
    if scheme in SERVER_SCHEMES and sep:
        from glasspane.store.clickhouse.connection import HttpConnection
        from glasspane.store.clickhouse.store import ClickHouseStore

        return ClickHouseStore(HttpConnection(url), retention_days)
    raise UnsupportedStore(
        f"Store URL {url!r} is not supported; use duckdb:///path/to/file.duckdb, "
        "chdb:///path/to/dir or clickhouse://user:password@host:8123/database"
    )


def shared_between_processes(url: str) -> bool:
    """Whether several processes may open the store ``url`` names at once, as its
    backend declares it (:attr:`~glasspane.store.api.StoreLifecycle.shared_between_processes`),
    asked before anything is opened.

    False for DuckDB and chDB (each locks its files to one process), True for a
    ClickHouse server. False too for a URL no backend takes: opening it then
    says what is wrong.
    """
    scheme, sep, _ = url.partition("://")
    if not url or (scheme == "duckdb" and sep):
        from glasspane.store.duckdb.store import DuckDBStore

        return DuckDBStore.shared_between_processes
    if scheme == "chdb" and sep:
        from glasspane.store.clickhouse.connection import ChdbConnection

        return ChdbConnection.shared_between_processes
    if scheme in SERVER_SCHEMES and sep:
        from glasspane.store.clickhouse.connection import HttpConnection

        return HttpConnection.shared_between_processes
    return False
