"""Replays, sessions, check-ins, feedback and profiles ↔ this backend's rows.

Each table is declared once here, column by column with its Arrow type, and
written with one columnar insert per group commit like the span tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import orjson
import pyarrow as pa

from glasspane.domain import (
    Batch,
    CheckIn,
    ClientInfo,
    Feedback,
    Profile,
    ReplayEvent,
    ReplayRecording,
    SessionAggregate,
    SessionUpdate,
    User,
)
from glasspane.store.models import ReleaseHealth, ReplaySummary

Conn = Any  # duckdb.DuckDBPyConnection
S, F, INT, B = pa.string(), pa.float64(), pa.int32(), pa.int64()
LIST = pa.list_(pa.string())

REPLAY_SEGMENTS = pa.schema(
    [
        ("project_id", INT),
        ("replay_id", S),
        ("segment_id", INT),
        ("timestamp", F),
        ("replay_start_ts", F),
        ("replay_type", S),
        ("trace_ids", LIST),
        ("error_ids", LIST),
        ("urls", LIST),
        ("environment", S),
        ("release", S),
        ("platform", S),
        ("user_id", S),
        ("user_email", S),
        ("user_username", S),
        ("user_ip", S),
        ("browser_name", S),
        ("os_name", S),
        ("country_code", S),
        ("tags", S),
        ("sdk", S),
        ("received_at", F),
    ]
)
REPLAY_RECORDINGS = pa.schema(
    [
        ("project_id", INT),
        ("replay_id", S),
        ("segment_id", INT),
        ("payload", pa.binary()),
        ("events", INT),
        ("received_at", F),
    ]
)
SESSIONS = pa.schema(
    [
        ("project_id", INT),
        ("session_id", S),
        ("distinct_id", S),
        ("release", S),
        ("environment", S),
        ("status", S),
        ("errors", INT),
        ("started", F),
        ("timestamp", F),
        ("init", pa.bool_()),
        ("duration", F),
        ("received_at", F),
    ]
)
SESSION_AGGREGATES = pa.schema(
    [
        ("project_id", INT),
        ("release", S),
        ("environment", S),
        ("started", F),
        ("distinct_id", S),
        ("exited", B),
        ("errored", B),
        ("abnormal", B),
        ("unhandled", B),
        ("crashed", B),
        ("received_at", F),
    ]
)
CHECK_INS = pa.schema(
    [
        ("project_id", INT),
        ("check_in_id", S),
        ("monitor_slug", S),
        ("status", S),
        ("timestamp", F),
        ("duration", F),
        ("environment", S),
        ("release", S),
        ("trace_id", S),
        ("monitor_config", S),
        ("received_at", F),
    ]
)
FEEDBACK = pa.schema(
    [
        ("project_id", INT),
        ("event_id", S),
        ("timestamp", F),
        ("message", S),
        ("name", S),
        ("contact_email", S),
        ("url", S),
        ("replay_id", S),
        ("associated_event_id", S),
        ("trace_id", S),
        ("environment", S),
        ("release", S),
        ("user_id", S),
        ("user_email", S),
        ("user_username", S),
        ("user_ip", S),
        ("tags", S),
        ("received_at", F),
    ]
)
PROFILES = pa.schema(
    [
        ("project_id", INT),
        ("profile_id", S),
        ("kind", S),
        ("timestamp", F),
        ("platform", S),
        ("transaction_id", S),
        ("transaction", S),
        ("trace_id", S),
        ("profiler_id", S),
        ("duration_ms", F),
        ("samples", INT),
        ("environment", S),
        ("release", S),
        ("payload", pa.binary()),
        ("received_at", F),
    ]
)


def _json(value: Any) -> str | None:
    return orjson.dumps(value, default=str).decode() if value else None


def _loads(value: str | None) -> Any:
    return orjson.loads(value) if value else {}


def _user(user: User) -> tuple[Any, ...]:
    return (user.id, user.email, user.username, user.ip_address)


def replay_segment_row(e: ReplayEvent) -> tuple[Any, ...]:
    return (
        e.project_id,
        e.replay_id,
        e.segment_id,
        e.timestamp,
        e.replay_start_timestamp,
        e.replay_type,
        e.trace_ids,
        e.error_ids,
        e.urls,
        e.environment,
        e.release,
        e.platform,
        *_user(e.user),
        e.client.browser,
        e.client.os,
        e.client.country,
        _json(e.tags),
        _json(e.sdk),
        e.received_at,
    )


def replay_recording_row(r: ReplayRecording) -> tuple[Any, ...]:
    return (r.project_id, r.replay_id, r.segment_id, r.payload, r.events, r.received_at)


def session_row(s: SessionUpdate) -> tuple[Any, ...]:
    return (
        s.project_id,
        s.session_id,
        s.distinct_id,
        s.release,
        s.environment,
        s.status,
        s.errors,
        s.started,
        s.timestamp,
        s.init,
        s.duration,
        s.received_at,
    )


def aggregate_row(a: SessionAggregate) -> tuple[Any, ...]:
    return (
        a.project_id,
        a.release,
        a.environment,
        a.started,
        a.distinct_id,
        a.exited,
        a.errored,
        a.abnormal,
        a.unhandled,
        a.crashed,
        a.received_at,
    )


def check_in_row(c: CheckIn) -> tuple[Any, ...]:
    return (
        c.project_id,
        c.check_in_id,
        c.monitor_slug,
        c.status,
        c.timestamp,
        c.duration,
        c.environment,
        c.release,
        c.trace_id,
        _json(c.monitor_config),
        c.received_at,
    )


def feedback_row(f: Feedback) -> tuple[Any, ...]:
    return (
        f.project_id,
        f.event_id,
        f.timestamp,
        f.message,
        f.name,
        f.contact_email,
        f.url,
        f.replay_id,
        f.associated_event_id,
        f.trace_id,
        f.environment,
        f.release,
        *_user(f.user),
        _json(f.tags),
        f.received_at,
    )


def profile_row(p: Profile) -> tuple[Any, ...]:
    return (
        p.project_id,
        p.profile_id,
        p.kind,
        p.timestamp,
        p.platform,
        p.transaction_id,
        p.transaction,
        p.trace_id,
        p.profiler_id,
        p.duration_ms,
        p.samples,
        p.environment,
        p.release,
        p.payload,
        p.received_at,
    )


#: Batch list → (table, schema, row function).
TABLES: dict[str, tuple[str, pa.Schema, Callable[[Any], tuple[Any, ...]]]] = {
    "replay_events": ("replay_segments", REPLAY_SEGMENTS, replay_segment_row),
    "replay_recordings": ("replay_recordings", REPLAY_RECORDINGS, replay_recording_row),
    "sessions": ("sessions", SESSIONS, session_row),
    "session_aggregates": ("session_aggregates", SESSION_AGGREGATES, aggregate_row),
    "check_ins": ("check_ins", CHECK_INS, check_in_row),
    "feedback": ("feedback", FEEDBACK, feedback_row),
    "profiles": ("profiles", PROFILES, profile_row),
}


def _table(schema: pa.Schema, rows: Iterable[tuple[Any, ...]]) -> pa.Table:
    data = list(zip(*rows, strict=True))
    return pa.Table.from_arrays(
        [pa.array(values, type=f.type) for values, f in zip(data, schema, strict=True)],
        schema=schema,
    )


def tables(batches: Sequence[Batch]) -> Iterator[tuple[str, pa.Table]]:
    """``(table name, Arrow rows)`` for every SDK-item table the batches have rows for."""
    for attribute, (table, schema, to_row) in TABLES.items():
        rows = [to_row(item) for batch in batches for item in getattr(batch, attribute)]
        if rows:
            yield table, _table(schema, rows)


def insert(conn: Conn, batches: Sequence[Batch]) -> None:
    """Insert every replay, session, check-in, feedback and profile of the batches (DuckDB)."""
    for table, arrow in tables(batches):
        conn.register("incoming_sdk_items", arrow)
        try:
            conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming_sdk_items")
        finally:
            conn.unregister("incoming_sdk_items")


def columns(schema: pa.Schema) -> str:
    """The schema's columns for a SELECT, quoted."""
    return ", ".join(f'"{name}"' for name in schema.names)


def replay_event_from_row(row: Sequence[Any]) -> ReplayEvent:
    r = dict(zip(REPLAY_SEGMENTS.names, row, strict=True))
    return ReplayEvent(
        project_id=r["project_id"],
        replay_id=r["replay_id"],
        segment_id=r["segment_id"],
        timestamp=r["timestamp"],
        replay_start_timestamp=r["replay_start_ts"],
        replay_type=r["replay_type"],
        trace_ids=list(r["trace_ids"] or []),
        error_ids=list(r["error_ids"] or []),
        urls=list(r["urls"] or []),
        environment=r["environment"],
        release=r["release"],
        platform=r["platform"],
        user=User(r["user_id"], r["user_email"], r["user_username"], r["user_ip"]),
        client=ClientInfo(r["browser_name"], r["os_name"], r["country_code"]),
        tags=_loads(r["tags"]),
        sdk=_loads(r["sdk"]),
        received_at=r["received_at"],
    )


def replay_recording_from_row(row: Sequence[Any]) -> ReplayRecording:
    r = dict(zip(REPLAY_RECORDINGS.names, row, strict=True))
    return ReplayRecording(**{**r, "payload": bytes(r["payload"])})


def check_in_from_row(row: Sequence[Any]) -> CheckIn:
    r = dict(zip(CHECK_INS.names, row, strict=True))
    return CheckIn(**{**r, "monitor_config": _loads(r["monitor_config"])})


def feedback_from_row(row: Sequence[Any]) -> Feedback:
    r = dict(zip(FEEDBACK.names, row, strict=True))
    user = User(r.pop("user_id"), r.pop("user_email"), r.pop("user_username"), r.pop("user_ip"))
    return Feedback(**{**r, "user": user, "tags": _loads(r["tags"])})


def profile_from_row(row: Sequence[Any]) -> Profile:
    r = dict(zip(PROFILES.names, row, strict=True))
    return Profile(**{**r, "payload": bytes(r["payload"] or b"")})


def replay_summary_from_row(r: Sequence[Any]) -> ReplaySummary:
    """A replay list row: id, project, start, end, segment count, trace/error/url
    lists, then the first segment's user, client, environment, release and type."""
    return ReplaySummary(
        replay_id=r[0],
        project_id=r[1],
        started_at=r[2],
        finished_at=r[3],
        segments=r[4],
        trace_ids=sorted(r[5] or []),
        error_ids=sorted(r[6] or []),
        urls=list(r[7] or []),
        user=User(r[8], r[9], r[10], r[11]),
        client=ClientInfo(r[12], r[13], r[14]),
        environment=r[15],
        release=r[16],
        replay_type=r[17],
    )


def release_health_from_row(r: Sequence[Any]) -> ReleaseHealth:
    """A release health row: project, release, environments, then the counts and times."""
    return ReleaseHealth(r[0], r[1], list(r[2] or []), *r[3:])


def profile_filter(
    window: Any, transaction_id: str | None, trace_id: str | None
) -> tuple[str, list[Any]]:
    """The WHERE clause listing profiles: by transaction or trace id, else by time."""
    clauses: list[str] = []
    params: list[Any] = []
    if transaction_id is not None:
        clauses.append("transaction_id = ?")
        params.append(transaction_id)
    if trace_id is not None:
        clauses.append("trace_id = ?")
        params.append(trace_id)
    if not clauses:
        clauses.append('"timestamp" >= ? AND "timestamp" < ?')
        params += [window.start, window.end]
    return " AND ".join(clauses), params
