"""Versioned schema migrations for the DuckDB store.

Each entry upgrades the schema by one version; they run in order, each in its
own transaction, when a data directory is opened. Never edit a released step:
add the next one (``ALTER TABLE ... ADD COLUMN``) instead.
"""

from __future__ import annotations

import time

import duckdb

from glasspane.errors import ConfigError

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE projects (
            id INTEGER PRIMARY KEY, name VARCHAR NOT NULL UNIQUE,
            public_key VARCHAR NOT NULL UNIQUE, created_at DOUBLE NOT NULL,
            apdex_threshold_ms DOUBLE NOT NULL)""",
        """CREATE TABLE spans (
            project_id INTEGER NOT NULL, trace_id VARCHAR NOT NULL, span_id VARCHAR NOT NULL,
            parent_span_id VARCHAR, segment_id VARCHAR, is_segment BOOLEAN NOT NULL,
            "transaction" VARCHAR, op VARCHAR, description VARCHAR, status VARCHAR NOT NULL,
            start_ts DOUBLE NOT NULL, end_ts DOUBLE NOT NULL, duration_ms DOUBLE NOT NULL,
            service VARCHAR NOT NULL, environment VARCHAR, release VARCHAR,
            user_id VARCHAR, user_email VARCHAR, user_username VARCHAR, user_ip VARCHAR,
            sample_rate DOUBLE NOT NULL, event_id VARCHAR, platform VARCHAR,
            tags VARCHAR, data VARCHAR, measurements VARCHAR, contexts VARCHAR,
            request VARCHAR, sdk VARCHAR, received_at DOUBLE NOT NULL)""",
        """CREATE TABLE issues (
            id BIGINT PRIMARY KEY, project_id INTEGER NOT NULL, fingerprint VARCHAR NOT NULL,
            status VARCHAR NOT NULL DEFAULT 'unresolved', created_at DOUBLE NOT NULL,
            UNIQUE (project_id, fingerprint))""",
        """CREATE TABLE errors (
            project_id INTEGER NOT NULL, event_id VARCHAR NOT NULL, issue_id BIGINT NOT NULL,
            fingerprint VARCHAR NOT NULL, trace_id VARCHAR, span_id VARCHAR,
            "timestamp" DOUBLE NOT NULL, received_at DOUBLE NOT NULL, level VARCHAR,
            platform VARCHAR, "transaction" VARCHAR, type VARCHAR, value VARCHAR,
            title VARCHAR, culprit VARCHAR, message VARCHAR, service VARCHAR,
            environment VARCHAR, release VARCHAR, user_id VARCHAR, user_email VARCHAR,
            user_username VARCHAR, user_ip VARCHAR, loc_file VARCHAR, loc_line INTEGER,
            loc_function VARCHAR, tags VARCHAR, contexts VARCHAR, payload VARCHAR)""",
        """CREATE TABLE outcomes (
            project_id INTEGER NOT NULL, category VARCHAR NOT NULL, reason VARCHAR NOT NULL,
            quantity BIGINT NOT NULL, "timestamp" DOUBLE NOT NULL)""",
    ),
    # Trace lookups: without an index DuckDB scans every trace id (~25 ms per
    # 500k spans, growing linearly); the ART index answers in ~6 ms and did not
    # slow group-committed inserts measurably.
    (
        "CREATE INDEX spans_trace_id ON spans (trace_id)",
        "CREATE INDEX errors_trace_id ON errors (trace_id)",
    ),
    # User impact: where and on what the user was (user agent and geo, parsed at ingest).
    (
        "ALTER TABLE spans ADD COLUMN browser_name VARCHAR",
        "ALTER TABLE spans ADD COLUMN os_name VARCHAR",
        "ALTER TABLE spans ADD COLUMN country_code VARCHAR",
        "ALTER TABLE errors ADD COLUMN browser_name VARCHAR",
        "ALTER TABLE errors ADD COLUMN os_name VARCHAR",
        "ALTER TABLE errors ADD COLUMN country_code VARCHAR",
    ),
    # Issue workflow: a resolved issue that gets a new event reopens as regressed
    # (``regressed_at``); who changed the status last and when. The issue page
    # and its paged events read errors by issue id.
    (
        "ALTER TABLE issues ADD COLUMN regressed_at DOUBLE",
        "ALTER TABLE issues ADD COLUMN status_changed_at DOUBLE",
        "CREATE INDEX errors_issue_id ON errors (issue_id)",
    ),
    # Logs and metrics (Sentry ``log``/``trace_metric`` items, OTLP logs and
    # metrics). A metric row is one value (count 1, sum = min = max = value) or
    # one OTLP histogram point (count/sum/min/max plus explicit bucket bounds and
    # counts as JSON arrays). OTLP points keep their series' start time and
    # temporality: cumulative points are turned into increments when read. The
    # trace view reads logs by trace id.
    (
        """CREATE TABLE logs (
            project_id INTEGER NOT NULL, "timestamp" DOUBLE NOT NULL,
            received_at DOUBLE NOT NULL, service VARCHAR NOT NULL, environment VARCHAR,
            release VARCHAR, trace_id VARCHAR, span_id VARCHAR, level VARCHAR NOT NULL,
            severity_number INTEGER, body VARCHAR NOT NULL, attributes VARCHAR)""",
        "CREATE INDEX logs_trace_id ON logs (trace_id)",
        """CREATE TABLE metrics (
            project_id INTEGER NOT NULL, "timestamp" DOUBLE NOT NULL,
            received_at DOUBLE NOT NULL, service VARCHAR NOT NULL, environment VARCHAR,
            release VARCHAR, name VARCHAR NOT NULL, type VARCHAR NOT NULL, unit VARCHAR,
            value DOUBLE, count BIGINT NOT NULL, sum DOUBLE NOT NULL, min DOUBLE,
            max DOUBLE, bucket_bounds VARCHAR, bucket_counts VARCHAR, attributes VARCHAR,
            trace_id VARCHAR, span_id VARCHAR, start_ts DOUBLE, temporality VARCHAR)""",
    ),
    # Session replay, release health, cron monitors, user feedback and profiles.
    # Replay segments keep their trace and error ids as lists, so a trace or an
    # issue finds its replays; recordings stay as the SDK compressed them.
    # Sessions are kept per update (a session's outcome is its worst update);
    # check-ins per message (a run is its check_in_id).
    (
        """CREATE TABLE replay_segments (
            project_id INTEGER NOT NULL, replay_id VARCHAR NOT NULL,
            segment_id INTEGER NOT NULL, "timestamp" DOUBLE NOT NULL, replay_start_ts DOUBLE,
            replay_type VARCHAR, trace_ids VARCHAR[], error_ids VARCHAR[], urls VARCHAR[],
            environment VARCHAR, release VARCHAR, platform VARCHAR, user_id VARCHAR,
            user_email VARCHAR, user_username VARCHAR, user_ip VARCHAR, browser_name VARCHAR,
            os_name VARCHAR, country_code VARCHAR, tags VARCHAR, sdk VARCHAR,
            received_at DOUBLE NOT NULL)""",
        "CREATE INDEX replay_segments_replay_id ON replay_segments (replay_id)",
        """CREATE TABLE replay_recordings (
            project_id INTEGER NOT NULL, replay_id VARCHAR NOT NULL,
            segment_id INTEGER NOT NULL, payload BLOB NOT NULL, events INTEGER NOT NULL,
            received_at DOUBLE NOT NULL)""",
        "CREATE INDEX replay_recordings_replay_id ON replay_recordings (replay_id)",
        """CREATE TABLE sessions (
            project_id INTEGER NOT NULL, session_id VARCHAR NOT NULL, distinct_id VARCHAR,
            release VARCHAR NOT NULL, environment VARCHAR, status VARCHAR NOT NULL,
            errors INTEGER NOT NULL, started DOUBLE NOT NULL, "timestamp" DOUBLE NOT NULL,
            init BOOLEAN NOT NULL, duration DOUBLE, received_at DOUBLE NOT NULL)""",
        """CREATE TABLE session_aggregates (
            project_id INTEGER NOT NULL, release VARCHAR NOT NULL, environment VARCHAR,
            started DOUBLE NOT NULL, distinct_id VARCHAR, exited BIGINT NOT NULL,
            errored BIGINT NOT NULL, abnormal BIGINT NOT NULL, unhandled BIGINT NOT NULL,
            crashed BIGINT NOT NULL, received_at DOUBLE NOT NULL)""",
        """CREATE TABLE check_ins (
            project_id INTEGER NOT NULL, check_in_id VARCHAR NOT NULL,
            monitor_slug VARCHAR NOT NULL, status VARCHAR NOT NULL,
            "timestamp" DOUBLE NOT NULL, duration DOUBLE, environment VARCHAR,
            release VARCHAR, trace_id VARCHAR, monitor_config VARCHAR,
            received_at DOUBLE NOT NULL)""",
        """CREATE TABLE feedback (
            project_id INTEGER NOT NULL, event_id VARCHAR NOT NULL,
            "timestamp" DOUBLE NOT NULL, message VARCHAR NOT NULL, name VARCHAR,
            contact_email VARCHAR, url VARCHAR, replay_id VARCHAR,
            associated_event_id VARCHAR, trace_id VARCHAR, environment VARCHAR,
            release VARCHAR, user_id VARCHAR, user_email VARCHAR, user_username VARCHAR,
            user_ip VARCHAR, tags VARCHAR, received_at DOUBLE NOT NULL)""",
        """CREATE TABLE profiles (
            project_id INTEGER NOT NULL, profile_id VARCHAR NOT NULL, kind VARCHAR NOT NULL,
            "timestamp" DOUBLE NOT NULL, platform VARCHAR, transaction_id VARCHAR,
            "transaction" VARCHAR, trace_id VARCHAR, profiler_id VARCHAR,
            duration_ms DOUBLE, samples INTEGER NOT NULL, environment VARCHAR,
            release VARCHAR, payload BLOB NOT NULL, received_at DOUBLE NOT NULL)""",
    ),
    # Alert rule state, so a restart neither re-fires nor forgets an incident.
    (
        """CREATE TABLE alert_states (
            rule VARCHAR PRIMARY KEY, state VARCHAR NOT NULL, updated_at DOUBLE NOT NULL)""",
    ),
    # Transactions read apart from their child spans: the performance views scan
    # only segments (1 row in ~10) instead of filtering every span. A copy, so
    # trace lookups keep one table; any column later added to spans must be
    # added to segments in the same migration.
    (
        "CREATE TABLE segments AS SELECT * FROM spans WHERE is_segment ORDER BY start_ts",
        "CREATE INDEX segments_trace_id ON segments (trace_id)",
    ),
    # How far each ingest journal segment has been fed, committed with the rows.
    (
        """CREATE TABLE journal_positions (
            segment VARCHAR PRIMARY KEY, position BIGINT NOT NULL)""",
    ),
    # Users, personal tokens, login sessions and the audit log (store/accounts.py).
    # Nothing secret in clear: argon2 password hashes, SHA-256 digests of tokens
    # and session ids. Deleted users and revoked tokens stay, marked, so no id is
    # reused; a user name is unique among live users (checked by the writer).
    (
        """CREATE TABLE users (
            id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, role VARCHAR NOT NULL,
            password_hash VARCHAR NOT NULL, created_at DOUBLE NOT NULL, deleted_at DOUBLE)""",
        """CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, name VARCHAR NOT NULL,
            role VARCHAR, digest VARCHAR NOT NULL UNIQUE, created_at DOUBLE NOT NULL,
            last_used_at DOUBLE, revoked_at DOUBLE)""",
        """CREATE TABLE login_sessions (
            digest VARCHAR PRIMARY KEY, user_id INTEGER NOT NULL, via VARCHAR NOT NULL,
            created_at DOUBLE NOT NULL, expires_at DOUBLE NOT NULL, revoked_at DOUBLE)""",
        """CREATE TABLE audit_log (
            "timestamp" DOUBLE NOT NULL, actor VARCHAR NOT NULL, action VARCHAR NOT NULL,
            target VARCHAR NOT NULL, detail VARCHAR NOT NULL, address VARCHAR)""",
    ),
    # Performance issues (decision 013): an error row is an error event or a
    # detector's finding in a transaction; its issue takes the category.
    ("ALTER TABLE errors ADD COLUMN category VARCHAR DEFAULT 'error'",),
    # A project's own performance detector thresholds (JSON, see
    # detectors/thresholds.py); a project without a row uses the defaults.
    (
        """CREATE TABLE detector_thresholds (
            project_id INTEGER PRIMARY KEY, thresholds VARCHAR NOT NULL,
            changed_at DOUBLE NOT NULL)""",
    ),
)

LATEST = len(MIGRATIONS)


def migrate(conn: duckdb.DuckDBPyConnection) -> int:
    """Bring the schema to :data:`LATEST`; returns the version found before."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
        "applied_at DOUBLE NOT NULL)"
    )
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    found = int(row[0]) if row else 0
    if found > LATEST:
        raise ConfigError(
            f"The data directory has schema version {found}, newer than this glasspane "
            f"knows ({LATEST}); upgrade glasspane or use another --data-dir"
        )
    for version in range(found + 1, LATEST + 1):
        conn.begin()
        for statement in MIGRATIONS[version - 1]:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", [version, time.time()])
        conn.commit()
    return found
