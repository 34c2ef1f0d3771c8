"""What the performance analytics of every backend share: the definitions
(a failed transaction, Apdex, the trace sort keys) as SQL both dialects accept,
and result rows → read models.

Each backend's ``analytics.py`` writes its own SQL around these. Segments
(``is_segment``) are the transactions. Counts are weighted by 1 / sample
rate; percentiles, rates and Apdex are per sample (docs/semantics.md). Percentiles are
exact and interpolate linearly between order statistics, on both backends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from glasspane.domain import NON_FAILING_STATUSES
from glasspane.errors import ProtocolError, QueryError
from glasspane.store.issues import IDENTITY
from glasspane.store.models import (
    ImpactStats,
    SeriesPoint,
    SpanGroup,
    SpanGroupPoint,
    TransactionStats,
    Window,
)
from glasspane.store.search_keys import KNOWN_KEYS, Dialect

_OK = ", ".join(f"'{s}'" for s in sorted(NON_FAILING_STATUSES))
#: A transaction failed: its status is none of the non-failing ones.
FAILED = f"(status NOT IN ({_OK}))"
#: Apdex over rows that carry their project's threshold as ``apdex_t``.
APDEX = (
    "(count(*) FILTER (WHERE duration_ms <= apdex_t)"
    " + count(*) FILTER (WHERE duration_ms > apdex_t AND duration_ms <= 4 * apdex_t) / 2.0)"
    " / count(*)"
)
#: ``sort`` of :meth:`~glasspane.store.api.AnalyticsReader.trace_summaries` (without its
#: ``-``) → the column it orders by.
TRACE_SORTS = {
    "timestamp": "start_ts",
    "duration": "duration_ms",
    "duration_ms": "duration_ms",
}


def trace_order(sort: str) -> tuple[str, str]:
    """``[-]timestamp|duration`` → (column, ``ASC``/``DESC``)."""
    return TRACE_SORTS[sort.lstrip("-")], "DESC" if sort.startswith("-") else "ASC"


def transaction_stats_rows(rows: Iterable[tuple[Any, ...]]) -> list[TransactionStats]:
    """Rows of (transaction, service, project, samples, count, [p50, p95], failure, apdex)."""
    return [
        TransactionStats(name, service, project, samples, count, p50, p95, failure, apdex)
        for name, service, project, samples, count, (p50, p95), failure, apdex in rows
    ]


def series_rows(rows: Iterable[tuple[Any, ...]]) -> list[SeriesPoint]:
    """Rows of (bucket, samples, count, [p50, p95], failure)."""
    return [
        SeriesPoint(bucket, samples, count, p50, p95, failure)
        for bucket, samples, count, (p50, p95), failure in rows
    ]


def impact_of(
    cur: Any,
    segments: str,
    params: list[Any],
    errors_where: str,
    error_params: list[Any],
    window: Window,
) -> ImpactStats:
    """Users and transactions among the failing ``segments`` and the matching error
    events of the window (the SQL is the same in both dialects). Transactions are
    weighted by 1 / sample rate like every count; users are distinct identities."""
    affected = f"""
        SELECT {IDENTITY} AS who, browser_name, os_name, country_code,
               1.0 / sample_rate AS weight
        FROM {segments} WHERE {FAILED}
        UNION ALL
        SELECT {IDENTITY}, browser_name, os_name, country_code, 0.0
        FROM errors WHERE "timestamp" >= ? AND "timestamp" < ? AND {errors_where}"""
    base = [*params, window.start, window.end, *error_params]
    users, transactions = cur.execute(
        f"SELECT count(DISTINCT who), coalesce(sum(weight), 0) FROM ({affected})", base
    ).fetchone() or (0, 0.0)

    def by(column: str) -> dict[str, int]:
        rows = cur.execute(
            f"""SELECT {column}, count(DISTINCT who) FROM ({affected})
                WHERE {column} IS NOT NULL AND who IS NOT NULL
                GROUP BY {column} ORDER BY 2 DESC, 1""",
            base,
        ).fetchall()
        return {str(key): int(n) for key, n in rows}

    return ImpactStats(
        int(users), float(transactions), by("country_code"), by("browser_name"), by("os_name")
    )


#: ``sort`` of :meth:`~glasspane.store.api.AnalyticsReader.list_spans` → (column, direction).
SPAN_SORTS = {
    "-timestamp": ("start_ts", "DESC"),
    "timestamp": ("start_ts", "ASC"),
    "-duration": ("duration_ms", "DESC"),
    "duration": ("duration_ms", "ASC"),
}
#: At most this many groups in a span aggregate, the largest counts first.
MAX_SPAN_GROUPS = 1000
#: Search keys spans can be grouped by (anything else is a tag).
SPAN_GROUP_KEYS = (
    "span.op",
    "span.description",
    "span.status",
    "service",
    "transaction",
    "environment",
    "release",
    "platform",
)


def span_order(sort: str) -> tuple[str, str]:
    """``-timestamp``, ``-duration``, ``duration`` (or ``timestamp``) → (column, direction);
    :class:`ProtocolError` (400) for anything else."""
    if sort not in SPAN_SORTS:
        raise ProtocolError(
            f"sort {sort!r} is not a span sort; use -timestamp, timestamp, -duration or duration"
        )
    return SPAN_SORTS[sort]


def span_group_exprs(
    group_by: tuple[str, ...], columns: Mapping[str, str], dialect: Dialect
) -> tuple[list[str], list[Any], list[str]]:
    """``(expressions, params, tags)``: each ``group_by`` key as SQL over ``spans``,
    the parameters they take in order, and the keys that are tags (to check that
    the data has them). ``tags[name]`` is the tag ``name``; a search key that is
    not about a span (``error.type``, ``duration``) is a :class:`QueryError`."""
    exprs: list[str] = []
    params: list[Any] = []
    tags: list[str] = []
    for key in group_by:
        if key in SPAN_GROUP_KEYS:
            exprs.append(columns[key])
            continue
        if key in KNOWN_KEYS:
            raise QueryError(
                f"spans cannot be grouped by {key}; group by {', '.join(SPAN_GROUP_KEYS)} "
                "or a tag name"
            )
        tag = key[5:-1] if key.startswith("tags[") and key.endswith("]") else key
        if tag == key:
            tags.append(key)
        exprs.append(dialect.json_param("tags"))
        params.append(dialect.json_key(tag))
    return exprs, params, tags


def span_group_rows(rows: Iterable[tuple[Any, ...]], width: int) -> list[SpanGroup]:
    """Rows of (values ..., samples, count, [p50, p95], avg, sum, failure)."""
    groups = []
    for row in rows:
        values = tuple(None if v is None else str(v) for v in row[:width])
        samples, count, (p50, p95), avg, total, failure = row[width:]
        groups.append(SpanGroup(values, samples, count, p50, p95, avg, total, failure))
    return groups


def span_aggregate_sql(exprs: list[str], where: str, quantiles: str) -> str:
    """One row per group of the window's matching spans (see :func:`span_group_rows`);
    parameters: the expressions', the window's start and end, ``where``'s, the limit."""
    groups = ", ".join(f"g{i}" for i in range(len(exprs)))
    selected = ", ".join(f"{e} AS g{i}" for i, e in enumerate(exprs))
    return f"""
        SELECT {groups}, count(*), sum(1.0 / sample_rate) AS weighted, {quantiles},
               avg(duration_ms), sum(duration_ms / sample_rate),
               avg(CASE WHEN {FAILED} THEN 1.0 ELSE 0.0 END)
        FROM (SELECT {selected}, duration_ms, status, sample_rate FROM spans
              WHERE start_ts >= ? AND start_ts < ? AND {where})
        GROUP BY {groups} ORDER BY weighted DESC, {groups} LIMIT ?"""


def span_series_rows(rows: Iterable[tuple[Any, ...]], width: int) -> list[SpanGroupPoint]:
    """Rows of (values ..., bucket, samples, count, [p50, p95], avg, sum, failure)."""
    rows = list(rows)
    groups = span_group_rows((r[:width] + r[width + 1 :] for r in rows), width)
    return [SpanGroupPoint(float(r[width]), g) for r, g in zip(rows, groups, strict=True)]


def span_series_sql(
    exprs: list[str], where: str, quantiles: str, groups: Sequence[tuple[str | None, ...]]
) -> tuple[str, list[Any]]:
    """Per bucket, the spans of ``groups`` (values of ``exprs``, as :func:`span_group_rows`
    gives them), ordered by group then bucket; empty buckets omitted (see
    :func:`span_series_rows`). Returns the SQL and the groups' parameters.

    Parameters, in order: the window's start twice and the interval twice (the
    bucket), the expressions', the window's start and end, ``where``'s, then the
    returned ones. The groups come as values, not ranked again here: the caller
    has them from :func:`span_aggregate_sql`, and a second ranking (a window sum
    over every group's buckets) read the spans twice and cost a third more.
    """
    names = [f"g{i}" for i in range(len(exprs))]
    selected = ", ".join(f"{e} AS {n}" for n, e in zip(names, exprs, strict=True))
    terms: list[str] = []
    params: list[Any] = []
    for values in groups:
        parts = []
        for name, value in zip(names, values, strict=True):
            parts.append(f"{name} IS NULL" if value is None else f"{name} = ?")
            params += [] if value is None else [value]
        terms.append("(" + " AND ".join(parts) + ")")
    cols = ", ".join(names)
    sql = f"""
        SELECT {cols}, ? + floor((start_ts - ?) / ?) * ? AS bucket, count(*),
               sum(1.0 / sample_rate), {quantiles}, avg(duration_ms),
               sum(duration_ms / sample_rate), avg(CASE WHEN {FAILED} THEN 1.0 ELSE 0.0 END)
        FROM (SELECT {selected}, start_ts, duration_ms, status, sample_rate
              FROM spans WHERE start_ts >= ? AND start_ts < ? AND {where})
        WHERE {" OR ".join(terms) or "FALSE"}
        GROUP BY {cols}, bucket ORDER BY {cols}, bucket"""
    return sql, params
