"""``glasspane serve --workers N`` asks the store whether processes may share it."""

from __future__ import annotations

from pathlib import Path

import pytest

from glasspane import server
from glasspane.errors import ConfigError


@pytest.mark.parametrize("store", ["", "duckdb:///tmp/x.duckdb", "chdb:///tmp/x"])
def test_several_server_processes_need_a_store_they_can_share(store: str, tmp_path: Path) -> None:
    flags = {"data_dir": str(tmp_path), "store": store, "workers": 2}
    with pytest.raises(ConfigError, match="--workers 2 needs a ClickHouse server store"):
        server.run(flags)
    assert list(tmp_path.iterdir()) == []  # refused before anything was opened
