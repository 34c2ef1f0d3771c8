"""Schema migrations upgrade an existing data directory and keep its data."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from glasspane.errors import ConfigError
from glasspane.store.duckdb.schema import LATEST, MIGRATIONS
from glasspane.store.duckdb.store import DuckDBStore


def test_an_old_data_directory_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at DOUBLE NOT NULL)"
    )
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_migrations VALUES (1, 0)")
    conn.execute("INSERT INTO projects VALUES (1, 'kept', 'k', 0, 300)")
    conn.close()

    store = DuckDBStore(path)
    try:
        assert [p.name for p in store.list_projects()] == ["kept"]
        versions = store._read("SELECT version FROM schema_migrations ORDER BY version")
        assert [v for (v,) in versions] == list(range(1, LATEST + 1))
    finally:
        store.close()


def test_a_newer_schema_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    DuckDBStore(path).close()
    conn = duckdb.connect(str(path))
    conn.execute("INSERT INTO schema_migrations VALUES (999, 0)")
    conn.close()
    with pytest.raises(ConfigError, match="newer than this glasspane knows"):
        DuckDBStore(path)


def test_a_foreign_file_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "foreign.duckdb"
    path.write_text("not a database")
    with pytest.raises(ConfigError, match=r"Cannot open .* as a glasspane DuckDB database"):
        DuckDBStore(path)
