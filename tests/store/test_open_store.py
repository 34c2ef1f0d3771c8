"""``--store`` URLs: each scheme opens its backend; anything else is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from glasspane.errors import ConfigError, UnsupportedStore
from glasspane.store import open_store, shared_between_processes


@pytest.mark.parametrize(
    ("url", "made"), [("duckdb://", "glasspane.duckdb"), ("chdb://", "clickhouse")]
)
def test_bare_scheme_uses_the_data_directory(url: str, made: str, tmp_path: Path) -> None:
    store = open_store(url, tmp_path)
    try:
        assert store.list_projects() == []
        assert (tmp_path / made).exists()
    finally:
        store.close()


def test_unknown_scheme_names_the_supported_ones(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedStore, match="chdb:///path/to/dir or clickhouse://"):
        open_store("postgres://db/glasspane", tmp_path)


def test_unreachable_clickhouse_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"Cannot reach ClickHouse at clickhouse://u:\*\*\*@127\.0\.0\.1:9/"
    ):
        open_store("clickhouse://u:secret@127.0.0.1:9/glasspane", tmp_path)


@pytest.mark.parametrize(
    ("url", "shared"),
    [
        ("", False),
        ("duckdb:///data/glasspane.duckdb", False),
        ("chdb:///data/clickhouse", False),
        ("clickhouse://default:@db:8123/glasspane", True),
        ("clickhouses://db:8443/glasspane", True),
        ("https://db:8443/glasspane", True),
        ("postgres://db/glasspane", False),  # opening it says what is wrong
    ],
)
def test_whether_processes_may_share_a_store_is_known_before_it_opens(
    url: str, shared: bool
) -> None:
    assert shared_between_processes(url) is shared


@pytest.mark.parametrize("url", ["duckdb://", "chdb://"])
def test_an_open_store_declares_what_its_url_says(url: str, tmp_path: Path) -> None:
    store = open_store(url, tmp_path)
    try:
        assert store.shared_between_processes is shared_between_processes(url) is False
    finally:
        store.close()
