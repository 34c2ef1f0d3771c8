"""The ClickHouse store's tables and their versioned migrations.

The same columns as the DuckDB store (``store/rows.py`` writes both), laid out
for ClickHouse's access paths:

- ``spans`` is ordered by trace id: a trace is one range of one sorted file.
- ``segments`` (the transactions, a copy of the segment spans) is ordered by
  project and start time: the performance views scan a time range of it.
- ``errors`` and ``logs`` are ordered by project and time, with bloom-filter
  skip indexes on trace id (and issue or event id) for the trace view.
- Every table is partitioned by day and carries a TTL on its own time column:
  retention drops whole days (``ttl_only_drop_parts``).
- Mutable things (projects, issue status, alert state, leases) are
  ``ReplacingMergeTree`` tables read with ``FINAL``: an update is a new row
  with a higher version, so several glasspane processes can write them without
  coordinating.

Statements run in order, each once; ``IF NOT EXISTS`` keeps them safe when
two processes start on an empty database at the same moment. Never edit a
released step: add the next one.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from glasspane.errors import ConfigError
from glasspane.store.clickhouse.connection import Connection
from glasspane.store.retention import TTL_COLUMNS

LC = "LowCardinality(Nullable(String))"
S = "Nullable(String)"

_SPAN_COLUMNS = f"""
    project_id UInt32, trace_id String, span_id String, parent_span_id {S},
    segment_id {S}, is_segment Bool, "transaction" {LC}, op {LC}, description {S},
    status LowCardinality(String), start_ts Float64, end_ts Float64, duration_ms Float64,
    service LowCardinality(String), environment {LC}, release {LC}, user_id {S},
    user_email {S}, user_username {S}, user_ip {S}, sample_rate Float64, event_id {S},
    platform {LC}, tags {S}, data {S}, measurements {S}, contexts {S}, request {S}, sdk {S},
    received_at Float64, browser_name {LC}, os_name {LC}, country_code {LC}"""


def _table(name: str, columns: str, order: str, extra: str = "") -> str:
    """A MergeTree table partitioned by day of its TTL column; ``{ttl}`` is filled at run time."""
    column = TTL_COLUMNS[name]
    return (
        f"CREATE TABLE IF NOT EXISTS {{db}}.{name} ({columns}{extra}) ENGINE = MergeTree "
        f"PARTITION BY toYYYYMMDD(toDateTime({column})) ORDER BY {order} "
        f"TTL toDateTime({column}) + toIntervalDay({{ttl}}) "
        "SETTINGS ttl_only_drop_parts = 1"
    )


def _replacing(name: str, columns: str, version: str, order: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {{db}}.{name} ({columns}) "
        f"ENGINE = ReplacingMergeTree({version}) ORDER BY {order}"
    )


_BLOOM = "TYPE bloom_filter(0.01) GRANULARITY 4"

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        _replacing(
            "projects",
            "id UInt32, name String, public_key String, created_at Float64, "
            "apdex_threshold_ms Float64, version Float64",
            "version",
            "id",
        ),
        _table("spans", _SPAN_COLUMNS, "(trace_id, start_ts, span_id)"),
        _table(
            "segments",
            _SPAN_COLUMNS,
            "(project_id, start_ts)",
            f", INDEX trace_idx trace_id {_BLOOM}",
        ),
        # One row per issue and status change; ``version`` is the change's time
        # (0 for the row that creates the issue, so it never hides a change).
        _replacing(
            "issues",
            "id UInt64, project_id UInt32, fingerprint String, "
            "status LowCardinality(String), created_at Float64, regressed_at Nullable(Float64), "
            "status_changed_at Nullable(Float64), version Float64",
            "version",
            "id",
        ),
        _table(
            "errors",
            f"""project_id UInt32, event_id String, issue_id UInt64, fingerprint String,
            trace_id {S}, span_id {S}, "timestamp" Float64, received_at Float64, level {LC},
            platform {LC}, "transaction" {LC}, type {S}, value {S}, title String, culprit {S},
            message {S}, service {LC}, environment {LC}, release {LC}, user_id {S},
            user_email {S}, user_username {S}, user_ip {S}, loc_file {S},
            loc_line Nullable(Int32), loc_function {S}, tags {S}, contexts {S}, payload {S},
            browser_name {LC}, os_name {LC}, country_code {LC}""",
            '(project_id, "timestamp")',
            f", INDEX trace_idx trace_id {_BLOOM}, INDEX issue_idx issue_id {_BLOOM}"
            f", INDEX event_idx event_id {_BLOOM}",
        ),
        _table(
            "outcomes",
            "project_id UInt32, category LowCardinality(String), reason LowCardinality(String), "
            'quantity Int64, "timestamp" Float64',
            '(project_id, "timestamp")',
        ),
        _table(
            "logs",
            f"""project_id UInt32, "timestamp" Float64, received_at Float64,
            service LowCardinality(String), environment {LC}, release {LC}, trace_id {S},
            span_id {S}, level LowCardinality(String), severity_number Nullable(Int32),
            body String, attributes {S}""",
            '(project_id, "timestamp")',
            f", INDEX trace_idx trace_id {_BLOOM}",
        ),
        _table(
            "metrics",
            f"""project_id UInt32, "timestamp" Float64, received_at Float64,
            service LowCardinality(String), environment {LC}, release {LC},
            name LowCardinality(String), type LowCardinality(String), unit {LC},
            value Nullable(Float64), count Int64, sum Float64, min Nullable(Float64),
            max Nullable(Float64), bucket_bounds {S}, bucket_counts {S}, attributes {S},
            trace_id {S}, span_id {S}, start_ts Nullable(Float64), temporality {LC}""",
            '(project_id, name, "timestamp")',
        ),
        # Replay recordings and profiles are binary: kept base64-encoded, since
        # the read path hands every String column back as text.
        _table(
            "replay_segments",
            f"""project_id UInt32, replay_id String, segment_id Int32, "timestamp" Float64,
            replay_start_ts Nullable(Float64), replay_type {LC}, trace_ids Array(String),
            error_ids Array(String), urls Array(String), environment {LC}, release {LC},
            platform {LC}, user_id {S}, user_email {S}, user_username {S}, user_ip {S},
            browser_name {LC}, os_name {LC}, country_code {LC}, tags {S}, sdk {S},
            received_at Float64""",
            "(replay_id, segment_id)",
        ),
        _table(
            "replay_recordings",
            "project_id UInt32, replay_id String, segment_id Int32, payload String, "
            "events Int32, received_at Float64",
            "(replay_id, segment_id)",
        ),
        _table(
            "sessions",
            f"""project_id UInt32, session_id String, distinct_id {S}, release String,
            environment {LC}, status LowCardinality(String), errors Int32, started Float64,
            "timestamp" Float64, init Bool, duration Nullable(Float64), received_at Float64""",
            '(project_id, release, "timestamp")',
        ),
        _table(
            "session_aggregates",
            f"""project_id UInt32, release String, environment {LC}, started Float64,
            distinct_id {S}, exited Int64, errored Int64, abnormal Int64, unhandled Int64,
            crashed Int64, received_at Float64""",
            "(project_id, release, started)",
        ),
        _table(
            "check_ins",
            f"""project_id UInt32, check_in_id String, monitor_slug String, status
            LowCardinality(String), "timestamp" Float64, duration Nullable(Float64),
            environment {LC}, release {LC}, trace_id {S}, monitor_config {S},
            received_at Float64""",
            '(project_id, monitor_slug, "timestamp")',
        ),
        _table(
            "feedback",
            f"""project_id UInt32, event_id String, "timestamp" Float64, message String,
            name {S}, contact_email {S}, url {S}, replay_id {S}, associated_event_id {S},
            trace_id {S}, environment {LC}, release {LC}, user_id {S}, user_email {S},
            user_username {S}, user_ip {S}, tags {S}, received_at Float64""",
            '(project_id, "timestamp")',
        ),
        _table(
            "profiles",
            f"""project_id UInt32, profile_id String, kind LowCardinality(String),
            "timestamp" Float64, platform {LC}, transaction_id {S}, "transaction" {LC},
            trace_id {S}, profiler_id {S}, duration_ms Nullable(Float64), samples Int32,
            environment {LC}, release {LC}, payload String, received_at Float64""",
            '(project_id, "timestamp")',
            f", INDEX profile_idx profile_id {_BLOOM}, INDEX trace_idx trace_id {_BLOOM}",
        ),
        _replacing(
            "alert_states",
            "rule String, state String, updated_at Float64",
            "updated_at",
            "rule",
        ),
        # Who evaluates alerts: the holder renews its lease; another process
        # takes it over once it has expired.
        _replacing(
            "leases",
            "name String, holder String, expires_at Float64, taken_at Float64",
            "taken_at",
            "name",
        ),
    ),
    # How far each ingest journal segment has been fed (written after its rows:
    # ClickHouse has no transactions, so a crash in between feeds a round twice).
    (
        _replacing(
            "journal_positions",
            "segment String, position Int64, updated_at Float64",
            "updated_at",
            "segment",
        ),
    ),
    # Users, personal tokens, login sessions and the audit log (store/accounts.py):
    # argon2 password hashes and SHA-256 digests, never a secret in clear. A
    # change is a new version of the row; deleted users and revoked tokens stay,
    # marked. A token's last use is a table of its own, so a use recorded by one
    # process can never overwrite a revocation written by another.
    (
        _replacing(
            "users",
            "id UInt32, name String, role LowCardinality(String), password_hash String, "
            "created_at Float64, deleted_at Nullable(Float64), version Float64",
            "version",
            "id",
        ),
        _replacing(
            "api_tokens",
            f"id UInt32, user_id UInt32, name String, role {LC}, digest String, "
            "created_at Float64, revoked_at Nullable(Float64), version Float64",
            "version",
            "id",
        ),
        _replacing(
            "token_uses", "token_id UInt32, last_used_at Float64", "last_used_at", "token_id"
        ),
        _replacing(
            "login_sessions",
            "digest String, user_id UInt32, via String, created_at Float64, "
            "expires_at Float64, revoked_at Nullable(Float64), version Float64",
            "version",
            "digest",
        ),
        'CREATE TABLE IF NOT EXISTS {db}.audit_log ("timestamp" Float64, actor String, '
        "action LowCardinality(String), target String, detail String, address Nullable(String)) "
        'ENGINE = MergeTree ORDER BY "timestamp"',
    ),
    # Performance issues (decision 013): an error row is an error event or a
    # detector's finding in a transaction; its issue takes the category.
    (
        "ALTER TABLE {db}.errors ADD COLUMN IF NOT EXISTS "
        "category LowCardinality(String) DEFAULT 'error'",
    ),
    # A project's own performance detector thresholds (JSON, see
    # detectors/thresholds.py); a project without a row uses the defaults.
    (
        _replacing(
            "detector_thresholds",
            "project_id UInt32, thresholds String, version Float64",
            "version",
            "project_id",
        ),
    ),
)

LATEST = len(MIGRATIONS)


def migrate(conn: Connection, retention_days: int) -> int:
    """Bring the schema to :data:`LATEST` and the TTLs to ``retention_days``.

    Returns the version found before.
    """
    db = conn.database
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {db}.schema_migrations (version UInt32, "
        "applied_at Float64) ENGINE = ReplacingMergeTree ORDER BY version"
    )
    row = conn.execute(f"SELECT max(version) FROM {db}.schema_migrations").fetchone()
    found = int(row[0]) if row and row[0] is not None else 0
    if found > LATEST:
        raise ConfigError(
            f"The ClickHouse database {db} has schema version {found}, newer than this "
            f"glasspane knows ({LATEST}); upgrade glasspane or use another database"
        )
    for version in range(found + 1, LATEST + 1):
        for statement in MIGRATIONS[version - 1]:
            conn.execute(statement.format(db=db, ttl=retention_days))
        conn.execute(f"INSERT INTO {db}.schema_migrations VALUES (?, ?)", [version, time.time()])
    apply_retention(conn, retention_days)
    return found


_TTL_DAYS = re.compile(r"toIntervalDay\((\d+)\)")


def apply_retention(conn: Connection, days: int) -> None:
    """Change each table's TTL to ``days`` where it differs (a metadata change)."""
    db = conn.database
    current = dict(
        conn.execute(
            "SELECT name, engine_full FROM system.tables WHERE database = ?", [db]
        ).fetchall()
    )
    for table, column in TTL_COLUMNS.items():
        engine = str(current.get(table, ""))
        if "MergeTree" not in engine:
            continue  # a cluster's Distributed table: its shards' local tables hold the TTL
        match = _TTL_DAYS.search(engine)
        if match and int(match.group(1)) == days:
            continue
        conn.execute(
            f"ALTER TABLE {db}.{table} MODIFY TTL toDateTime({column}) + toIntervalDay({days})"
        )


# -- binary payloads (see the note on replay recordings and profiles above) ------


def text_payloads(table: pa.Table) -> pa.Table:
    """Binary columns base64-encoded, for an insert."""
    for index, field in enumerate(table.schema):
        if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
            encoded = pa.array(
                [
                    None if v is None else base64.b64encode(v).decode()
                    for v in table.column(index).to_pylist()
                ],
                pa.string(),
            )
            table = table.set_column(index, field.name, encoded)
    return table


def decoded(schema: pa.Schema, row: Sequence[Any]) -> list[Any]:
    """The row with its base64 ``payload`` column turned back into bytes."""
    values = list(row)
    index = schema.get_field_index("payload")
    values[index] = base64.b64decode(values[index] or "")
    return values
