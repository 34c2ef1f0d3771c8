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
    SuspectSpan,
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


def previous_and_current(window: Window) -> Window:
    """The window stretched back by its own length: the period before it and itself,
    told apart by ``start_ts >= window.start`` (suspect spans)."""
    return Window(2 * window.start - window.end, window.end, window.filter)


#: How long before its transaction a child span may start and still be read
#: (clock steps between a span's start and its transaction's).
SPAN_LEAD_S = 60.0


def suspect_spans_sql(segments: str) -> str:
    """Per span kind (op, description) of the transactions in ``segments`` (the
    window stretched by :func:`previous_and_current`): time and count in the window
    and before it, each span weighted by 1 / its transaction's sample rate, and the
    spans received in the window, each row led by 1; then one row led by 0 with the
    transactions in the window and before it, weighted, in the places of the times.
    Parameters: the window's start, ``segments``'s, the earliest span start to read
    (:data:`SPAN_LEAD_S` before the stretched window: a child span starts after
    its transaction, so older spans need not be read)."""
    return f"""
        WITH tx AS (SELECT trace_id, span_id, 1.0 / sample_rate AS w,
                           CASE WHEN start_ts >= ? THEN 1 ELSE 0 END AS cur
                    FROM {segments})
        SELECT 1 AS kind, sp.op, sp.description,
               sum(sp.duration_ms * tx.w * tx.cur), sum(sp.duration_ms * tx.w * (1 - tx.cur)),
               sum(tx.w * tx.cur), sum(tx.w * (1 - tx.cur)), sum(tx.cur)
        FROM spans AS sp INNER JOIN tx ON sp.trace_id = tx.trace_id AND sp.segment_id = tx.span_id
        WHERE sp.trace_id IN (SELECT trace_id FROM tx) AND NOT sp.is_segment
          AND sp.start_ts >= ?
        GROUP BY sp.op, sp.description
        UNION ALL
        SELECT 0, NULL, NULL, sum(w * cur), sum(w * (1 - cur)), 0, 0, 0 FROM tx"""


#: A span kind grew when its time per transaction rose by more than this: less is
#: the float error of durations taken from epoch timestamps, not a change.
MIN_GROWTH_MS = 0.01


def suspect_rows(rows: Iterable[tuple[Any, ...]], limit: int) -> list[SuspectSpan]:
    """:func:`suspect_spans_sql`'s rows as the ``limit`` kinds whose time per
    transaction grew most (by more than :data:`MIN_GROWTH_MS`; the others left out)."""
    kinds, now_tx, before_tx = [], 0.0, 0.0
    for kind, *row in rows:
        if kind:
            kinds.append(row)
        else:
            now_tx, before_tx = float(row[2] or 0), float(row[3] or 0)
    found = []
    for op, description, now_ms, before_ms, now_n, before_n, samples in kinds:
        spans = SuspectSpan(
            op,
            description,
            _per(now_ms, now_tx),
            _per(before_ms, before_tx),
            _per(now_n, now_tx),
            _per(before_n, before_tx),
            int(samples or 0),
        )
        if spans.ms_per_tx - spans.before_ms_per_tx > MIN_GROWTH_MS:
            found.append(spans)
    found.sort(key=lambda s: (s.before_ms_per_tx - s.ms_per_tx, s.op or "", s.description or ""))
    return found[:limit]


def _per(value: Any, transactions: float) -> float:
    return float(value or 0) / transactions if transactions else 0.0


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
