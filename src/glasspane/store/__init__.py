"""Storage: the contract in ``api``, one folder per backend."""

from __future__ import annotations

from pathlib import Path

from glasspane.errors import UnsupportedStore
from glasspane.store.api import Store


def open_store(url: str, data_dir: Path) -> Store:
    """The store a ``--store`` URL names; empty means DuckDB in the data directory."""
    if not url:
        url = f"duckdb://{(data_dir / 'glasspane.duckdb').resolve()}"
    scheme, sep, rest = url.partition("://")
    if scheme == "duckdb" and sep:
        from glasspane.store.duckdb.store import DuckDBStore

        return DuckDBStore(Path(rest))
    raise UnsupportedStore(
        f"Store URL {url!r} is not supported; use duckdb:///path/to/file.duckdb "
        "(ClickHouse arrives with the scale-out work)"
    )
