"""The schema for a ClickHouse cluster: replicated tables on every shard, and a
``Distributed`` table of the same name in front of each, so glasspane reads
and writes a cluster exactly as it does a single server.

``glasspane clickhouse-ddl --cluster NAME`` prints these statements; run them
once (``clickhouse-client --multiquery < schema.sql``) before pointing any
glasspane at the cluster. The store then finds its schema version recorded
and runs no migration of its own.

Sharding keeps what is read together on one shard: a trace's spans, its
transactions, its errors and logs hash by trace id; a replay's segments and
recordings by replay id; each mutable table (projects, issues, alert state,
leases, users, tokens, sessions) by its key, so ``FINAL`` sees all versions of a row on one shard.
"""

from __future__ import annotations

import re
import time

from glasspane.store.clickhouse.schema import LATEST, MIGRATIONS

#: Distributed sharding expression per table (rand() where nothing is read together).
SHARDING: dict[str, str] = {
    "projects": "id",
    "spans": "cityHash64(trace_id)",
    "segments": "cityHash64(trace_id)",
    "issues": "id",
    "errors": "cityHash64(ifNull(trace_id, event_id))",
    "outcomes": "rand()",
    "logs": "cityHash64(ifNull(trace_id, ''))",
    "metrics": "rand()",
    "replay_segments": "cityHash64(replay_id)",
    "replay_recordings": "cityHash64(replay_id)",
    "sessions": "cityHash64(session_id)",
    "session_aggregates": "rand()",
    "check_ins": "cityHash64(monitor_slug)",
    "feedback": "rand()",
    "profiles": "cityHash64(profile_id)",
    "alert_states": "cityHash64(rule)",
    "leases": "cityHash64(name)",
    "journal_positions": "cityHash64(segment)",
    "users": "id",
    "api_tokens": "id",
    "token_uses": "token_id",
    "login_sessions": "cityHash64(digest)",
    "audit_log": "rand()",
    "detector_thresholds": "project_id",
    "schema_migrations": "version",
}

_CREATE = re.compile(r"CREATE TABLE IF NOT EXISTS \{db\}\.(\w+) ")
_ENGINE = re.compile(r"ENGINE = (Replacing)?MergeTree(?:\((\w*)\))?")


def cluster_ddl(cluster: str, database: str, retention_days: int) -> list[str]:
    """Every statement, in order, to create glasspane's schema on ``cluster``."""
    statements = [f"CREATE DATABASE IF NOT EXISTS {database} ON CLUSTER {cluster}"]
    local_tables = [
        *(s for step in MIGRATIONS for s in step),
        "CREATE TABLE IF NOT EXISTS {db}.schema_migrations (version UInt32, applied_at Float64) "
        "ENGINE = ReplacingMergeTree ORDER BY version",
    ]
    for statement in local_tables:
        match = _CREATE.search(statement)
        if match is None:  # a later migration's ALTER: on the local tables, then the
            # Distributed ones (a column they lack cannot be inserted or read through them)
            for target in (r"\1_local", r"\1"):
                statements.append(
                    re.sub(
                        r"ALTER TABLE \{db\}\.(\w+)",
                        rf"ALTER TABLE {{db}}.{target} ON CLUSTER {cluster}",
                        statement,
                    ).format(db=database, ttl=retention_days)
                )
            continue
        name = match.group(1)
        path = f"'/clickhouse/tables/{{shard}}/{database}/{name}_local', '{{replica}}'"

        def replicated(engine: re.Match[str], path: str = path) -> str:
            version = f", {engine.group(2)}" if engine.group(2) else ""
            return f"ENGINE = Replicated{engine.group(1) or ''}MergeTree({path}{version})"

        local = _CREATE.sub(
            f"CREATE TABLE IF NOT EXISTS {{db}}.{name}_local ON CLUSTER {cluster} ", statement
        )
        # Macros {shard} and {replica} come from each server's config: fill ours first.
        local = local.format(db=database, ttl=retention_days)
        statements.append(_ENGINE.sub(replicated, local))
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {database}.{name} ON CLUSTER {cluster} "
            f"AS {database}.{name}_local "
            f"ENGINE = Distributed({cluster}, {database}, {name}_local, {SHARDING[name]})"
        )
    statements.append(
        f"INSERT INTO {database}.schema_migrations VALUES "
        + ", ".join(f"({v}, {time.time():.0f})" for v in range(1, LATEST + 1))
    )
    return statements
