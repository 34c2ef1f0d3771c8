"""The cluster DDL (``glasspane clickhouse-ddl``): every table replicated and
fronted by a Distributed table, and the local tables' DDL valid ClickHouse."""

from __future__ import annotations

import re
from pathlib import Path

from glasspane.store.clickhouse.cluster import SHARDING, cluster_ddl
from glasspane.store.clickhouse.connection import ChdbConnection
from glasspane.store.retention import TTL_COLUMNS


def test_every_table_is_replicated_and_distributed() -> None:
    ddl = cluster_ddl("prod", "gp", 14)
    local = {
        m.group(1)
        for s in ddl
        if (m := re.search(r"TABLE IF NOT EXISTS gp\.(\w+)_local ON CLUSTER prod", s))
    }
    distributed = {
        m.group(1)
        for s in ddl
        if (
            m := re.search(
                r"gp\.(\w+) ON CLUSTER prod AS gp\.\1_local "
                r"ENGINE = Distributed\(prod, gp, \1_local, ",
                s,
            )
        )
    }
    assert local == distributed == set(SHARDING)
    for statement in ddl:
        if "_local ON CLUSTER" in statement and "CREATE TABLE" in statement:
            assert "ENGINE = Replicated" in statement
            assert "'/clickhouse/tables/{shard}/gp/" in statement
    ttls = [s for s in ddl if "TTL" in s]
    assert len(ttls) == len(TTL_COLUMNS) and all("toIntervalDay(14)" in s for s in ttls)
    assert ddl[-1].startswith("INSERT INTO gp.schema_migrations VALUES (1, ")


def test_local_tables_are_valid_clickhouse(tmp_path: Path) -> None:
    """Without a cluster here, run the local tables' DDL with the plain engines."""
    conn = ChdbConnection(tmp_path / "chdb", "gp")
    try:
        for statement in cluster_ddl("prod", "gp", 30):
            if "ENGINE = Distributed" in statement or not statement.startswith("CREATE TABLE"):
                continue
            plain = statement.replace(" ON CLUSTER prod", "")
            plain = re.sub(
                r"Replicated(\w*MergeTree)\('[^']*', '[^']*'(?:, (\w+))?\)",
                lambda m: f"{m.group(1)}({m.group(2) or ''})",
                plain,
            )
            conn.execute(plain)
        tables = {row[0] for row in conn.execute("SHOW TABLES").fetchall()}
        assert tables == {f"{name}_local" for name in SHARDING}
    finally:
        conn.close()
