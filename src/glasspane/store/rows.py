"""Domain objects ↔ table rows, shared by the backends (same columns in each).

Writes go through Arrow tables: one columnar insert per group commit is far
cheaper in DuckDB than row-by-row inserts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import pyarrow as pa

from glasspane.domain import (
    ClientInfo,
    ErrorEvent,
    Location,
    LogRecord,
    MetricPoint,
    Outcome,
    Span,
    User,
)
from glasspane.store.models import TraceError

SPAN_COLUMNS: tuple[str, ...] = (
    "project_id",
    "trace_id",
    "span_id",
    "parent_span_id",
    "segment_id",
    "is_segment",
    "transaction",
    "op",
    "description",
    "status",
    "start_ts",
    "end_ts",
    "duration_ms",
    "service",
    "environment",
    "release",
    "user_id",
    "user_email",
    "user_username",
    "user_ip",
    "sample_rate",
    "event_id",
    "platform",
    "tags",
    "data",
    "measurements",
    "contexts",
    "request",
    "sdk",
    "received_at",
    "browser_name",
    "os_name",
    "country_code",
)

ERROR_COLUMNS: tuple[str, ...] = (
    "project_id",
    "event_id",
    "issue_id",
    "fingerprint",
    "trace_id",
    "span_id",
    "timestamp",
    "received_at",
    "level",
    "platform",
    "transaction",
    "type",
    "value",
    "title",
    "culprit",
    "message",
    "service",
    "environment",
    "release",
    "user_id",
    "user_email",
    "user_username",
    "user_ip",
    "loc_file",
    "loc_line",
    "loc_function",
    "tags",
    "contexts",
    "payload",
    "browser_name",
    "os_name",
    "country_code",
    "category",
)

IS_SEGMENT = SPAN_COLUMNS.index("is_segment")

OUTCOME_COLUMNS: tuple[str, ...] = ("project_id", "category", "reason", "quantity", "timestamp")

#: Outcomes summed per project, category and reason (SQL both backends accept).
OUTCOME_TOTALS = (
    'SELECT project_id, category, reason, CAST(sum(quantity) AS BIGINT), max("timestamp") '
    "FROM outcomes GROUP BY project_id, category, reason ORDER BY project_id, category, reason"
)

LOG_COLUMNS: tuple[str, ...] = (
    "project_id",
    "timestamp",
    "received_at",
    "service",
    "environment",
    "release",
    "trace_id",
    "span_id",
    "level",
    "severity_number",
    "body",
    "attributes",
)

METRIC_COLUMNS: tuple[str, ...] = (
    "project_id",
    "timestamp",
    "received_at",
    "service",
    "environment",
    "release",
    "name",
    "type",
    "unit",
    "value",
    "count",
    "sum",
    "min",
    "max",
    "bucket_bounds",
    "bucket_counts",
    "attributes",
    "trace_id",
    "span_id",
    "start_ts",
    "temporality",
)

_TYPES = {
    "project_id": pa.int32(),
    "is_segment": pa.bool_(),
    "issue_id": pa.int64(),
    "quantity": pa.int64(),
    "loc_line": pa.int32(),
    "severity_number": pa.int32(),
    "count": pa.int64(),
    **{name: pa.float64() for name in ("sum", "min", "max", "start_ts")},
    **{
        name: pa.float64()
        for name in ("start_ts", "end_ts", "duration_ms", "sample_rate", "received_at", "timestamp")
    },
}


def _schema(columns: Sequence[str], **types: pa.DataType) -> pa.Schema:
    """Strings unless the column is in ``_TYPES`` (or ``types``, for this table only)."""
    types = {**_TYPES, **types}
    return pa.schema([(name, types.get(name, pa.string())) for name in columns])


SCHEMAS: dict[tuple[str, ...], pa.Schema] = {
    cols: _schema(cols) for cols in (SPAN_COLUMNS, ERROR_COLUMNS, OUTCOME_COLUMNS, LOG_COLUMNS)
}
SCHEMAS[METRIC_COLUMNS] = _schema(METRIC_COLUMNS, value=pa.float64())  # errors.value is text


def _json(value: Any) -> str | None:
    return orjson.dumps(value, default=str).decode() if value else None


def _loads(value: str | None) -> Any:
    return orjson.loads(value) if value else {}


def span_row(span: Span, received_at: float) -> tuple[Any, ...]:
    user = span.user
    return (
        span.project_id,
        span.trace_id,
        span.span_id,
        span.parent_span_id,
        span.segment_id,
        span.is_segment,
        span.transaction,
        span.op,
        span.description,
        span.status,
        span.start_timestamp,
        span.timestamp,
        span.duration_ms,
        span.service,
        span.environment,
        span.release,
        user.id,
        user.email,
        user.username,
        user.ip_address,
        span.sample_rate,
        span.event_id,
        span.platform,
        _json(span.tags),
        _json(span.data),
        _json(span.measurements),
        _json(span.contexts),
        _json(span.request),
        _json(span.sdk),
        received_at,
        span.client.browser,
        span.client.os,
        span.client.country,
    )


def error_row(event: ErrorEvent, issue_id: int) -> tuple[Any, ...]:
    user, loc = event.user, event.location
    return (
        event.project_id,
        event.event_id,
        issue_id,
        event.fingerprint,
        event.trace_id,
        event.span_id,
        event.timestamp,
        event.received_at,
        event.level,
        event.platform,
        event.transaction,
        event.type,
        event.value,
        event.title,
        event.culprit,
        event.message,
        event.service,
        event.environment,
        event.release,
        user.id,
        user.email,
        user.username,
        user.ip_address,
        loc.file if loc else None,
        loc.line if loc else None,
        loc.function if loc else None,
        _json(event.tags),
        _json(event.contexts),
        orjson.dumps(event, default=str).decode(),
        event.client.browser,
        event.client.os,
        event.client.country,
        event.category,
    )


def outcome_row(outcome: Outcome) -> tuple[Any, ...]:
    return (
        outcome.project_id,
        outcome.category,
        outcome.reason,
        outcome.quantity,
        outcome.timestamp,
    )


def log_row(log: LogRecord, received_at: float) -> tuple[Any, ...]:
    return (
        log.project_id,
        log.timestamp,
        received_at,
        log.service,
        log.environment,
        log.release,
        log.trace_id,
        log.span_id,
        log.level,
        log.severity_number,
        log.body,
        _json(log.attributes),
    )


def log_from_row(row: Sequence[Any]) -> LogRecord:
    r = dict(zip(LOG_COLUMNS, row, strict=True))
    return LogRecord(
        project_id=r["project_id"],
        timestamp=r["timestamp"],
        level=r["level"],
        body=r["body"],
        service=r["service"],
        trace_id=r["trace_id"],
        span_id=r["span_id"],
        severity_number=r["severity_number"],
        attributes=_loads(r["attributes"]),
        environment=r["environment"],
        release=r["release"],
    )


def metric_row(point: MetricPoint, received_at: float) -> tuple[Any, ...]:
    """Attributes are written with sorted keys: with the start time they name a
    cumulative series, whose increments are computed when read."""
    histogram = point.histogram
    return (
        point.project_id,
        point.timestamp,
        received_at,
        point.service,
        point.environment,
        point.release,
        point.name,
        point.type,
        point.unit,
        point.value,
        point.count,
        point.total,
        point.min,
        point.max,
        orjson.dumps(histogram.bounds).decode() if histogram else None,
        orjson.dumps(histogram.counts).decode() if histogram else None,
        orjson.dumps(point.attributes, default=str, option=orjson.OPT_SORT_KEYS).decode(),
        point.trace_id,
        point.span_id,
        point.start_timestamp,
        "cumulative" if point.cumulative else None,
    )


def arrow_table(columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> pa.Table:
    """Column-major Arrow table from row tuples, with the table's declared types.

    Declaring the types (rather than letting Arrow infer them) halves the cost
    of building the table, which is paid on every group commit.
    """
    schema = SCHEMAS[columns]
    data = list(zip(*rows, strict=True))
    return pa.Table.from_arrays(
        [pa.array(values, type=field.type) for values, field in zip(data, schema, strict=True)],
        schema=schema,
    )


def span_from_row(row: Sequence[Any]) -> Span:
    r = dict(zip(SPAN_COLUMNS, row, strict=True))
    return Span(
        project_id=r["project_id"],
        trace_id=r["trace_id"],
        span_id=r["span_id"],
        parent_span_id=r["parent_span_id"],
        segment_id=r["segment_id"],
        is_segment=r["is_segment"],
        transaction=r["transaction"],
        op=r["op"],
        description=r["description"],
        status=r["status"],
        start_timestamp=r["start_ts"],
        timestamp=r["end_ts"],
        service=r["service"],
        tags=_loads(r["tags"]),
        data=_loads(r["data"]),
        environment=r["environment"],
        release=r["release"],
        user=User(r["user_id"], r["user_email"], r["user_username"], r["user_ip"]),
        sample_rate=r["sample_rate"],
        event_id=r["event_id"],
        measurements=_loads(r["measurements"]),
        contexts=_loads(r["contexts"]),
        request=_loads(r["request"]),
        sdk=_loads(r["sdk"]),
        platform=r["platform"],
        client=ClientInfo(r["browser_name"], r["os_name"], r["country_code"]),
    )


TRACE_ERROR_COLUMNS = (
    "event_id",
    "issue_id",
    "project_id",
    "trace_id",
    "span_id",
    "timestamp",
    "level",
    "type",
    "value",
    "title",
    "culprit",
    "loc_file",
    "loc_line",
    "loc_function",
    "contexts",
    "transaction",
)


def trace_error_from_row(row: Sequence[Any]) -> TraceError:
    r = dict(zip(TRACE_ERROR_COLUMNS, row, strict=True))
    has_location = r["loc_file"] or r["loc_function"] or r["loc_line"] is not None
    return TraceError(
        event_id=r["event_id"],
        issue_id=r["issue_id"],
        project_id=r["project_id"],
        trace_id=r["trace_id"],
        span_id=r["span_id"],
        timestamp=r["timestamp"],
        level=r["level"],
        type=r["type"],
        value=r["value"],
        title=r["title"],
        culprit=r["culprit"],
        location=Location(r["loc_file"], r["loc_line"], r["loc_function"])
        if has_location
        else None,
        contexts=_loads(r["contexts"]),
        transaction=r["transaction"],
    )
