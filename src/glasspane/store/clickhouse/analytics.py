"""Performance analytics (transactions, services, traces, series, samples,
impact, totals) and filter validation, in ClickHouse SQL.

A mixin of :class:`~glasspane.store.clickhouse.store.ClickHouseStore`. The
same answers as the DuckDB store (:mod:`glasspane.store.duckdb.analytics`);
the definitions and row conversions both share are in
:mod:`glasspane.store.analytics`. Where the SQL differs, and why:

- A window is a ``start_ts`` range of ``segments``, which is ordered by
  (project, start time); a whole trace is read from ``spans``, ordered by trace
  id, through ``trace_id IN (...)`` so its primary key picks the ranges.
- "Has an error event" is an ``IN`` subquery, not a ``LEFT JOIN``: ClickHouse
  fills a non-matching row with defaults (``''``), not NULL, unless
  ``join_use_nulls`` is set.
- Percentiles are ``quantilesExactInclusive``, which interpolates like
  DuckDB's ``quantile_cont``. Over no rows ClickHouse's aggregates give
  ``nan`` where DuckDB's give NULL: the ``-OrNull`` forms restore NULL.
- CTEs are inlined, not materialised: a subquery used twice runs twice (the
  window's segments are read twice by the trace and error-rate queries).
- A write group that failed half-way and was retried may have stored a row
  twice (see the store's docstring). These aggregates count rows as they are:
  removing duplicates would hold every span id of the window in memory, for
  a case that only follows a failed insert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from glasspane.domain import Span
from glasspane.filters import Cmp, Filter, all_of
from glasspane.store import rows as row_shapes
from glasspane.store.analytics import (
    APDEX,
    FAILED,
    MAX_SPAN_GROUPS,
    SPAN_LEAD_S,
    impact_of,
    previous_and_current,
    series_rows,
    span_aggregate_sql,
    span_group_exprs,
    span_group_rows,
    span_order,
    span_series_rows,
    span_series_sql,
    suspect_rows,
    suspect_spans_sql,
    trace_order,
    transaction_stats_rows,
)
from glasspane.store.clickhouse.connection import Connection
from glasspane.store.issues import TAG_COLUMNS, USER_DISPLAY, tally_tags
from glasspane.store.models import (
    PAGE_OPS,
    PLACEHOLDER_PAGE_NAMES,
    DurationSample,
    ImpactStats,
    SeriesPoint,
    ServiceStats,
    SpanGroup,
    SpanGroupPoint,
    SuspectSpan,
    TagBreakdown,
    TraceSummary,
    TransactionStats,
    WebVitalStats,
    Window,
    WindowTotals,
)
from glasspane.store.search_keys import CH_SPANS, CLICKHOUSE
from glasspane.store.where import (
    Per,
    check_keys,
    compile_errors,
    compile_segments,
    compile_span_terms,
    compile_spans,
    span_terms,
)

#: p50 and p95 in one aggregate, which sorts one copy of the durations.
QUANTILES = "quantilesExactInclusive(0.5, 0.95)(duration_ms)"
FAILURE_RATE = f"avg(if({FAILED}, 1.0, 0.0))"


def _matching(window: Window, per: Per = "transaction") -> tuple[str, list[Any]]:
    """The window's transactions that match its filter, as a subquery (keys unchecked).

    Span-level terms ask about the spans of each transaction, or with
    ``per="trace"`` of its whole trace (:class:`~glasspane.store.where.SegmentCompiler`).
    """
    where, params = compile_segments(window.filter, CLICKHOUSE, per)
    sql = f"(SELECT * FROM segments WHERE start_ts >= ? AND start_ts < ? AND {where})"
    return sql, [window.start, window.end, *params]


def _segments(conn: Connection, window: Window, per: Per = "transaction") -> tuple[str, list[Any]]:
    """:func:`_matching` with each transaction's project's Apdex T as ``apdex_t``.

    Raises :class:`QueryError` (400) for a key that is neither known nor a tag.
    """
    check_keys(conn, window.filter, CLICKHOUSE)
    matching, params = _matching(window, per)
    sql = (
        f"(SELECT s.*, p.apdex_threshold_ms AS apdex_t FROM {matching} AS s "
        "INNER JOIN (SELECT id, apdex_threshold_ms FROM projects FINAL) AS p "
        "ON p.id = s.project_id)"
    )
    return sql, params


#: A transaction's (project, trace) as one hashed key. Looking a 64-bit hash up
#: in the set of erring ones is about a third faster than a tuple of the two
#: (measured at 2M spans); a collision would take 2**32 erring traces.
TRACE_KEY = "cityHash64(project_id, trace_id)"


def _erring(window: Window) -> tuple[str, list[Any]]:
    """:data:`TRACE_KEY` of the window's traces that have an error event."""
    matching, params = _matching(window)
    sql = (
        f"(SELECT {TRACE_KEY} FROM errors WHERE trace_id IN (SELECT trace_id FROM {matching}) "
        "AND category = 'error')"
    )
    return sql, params


def transaction_stats(conn: Connection, window: Window) -> list[TransactionStats]:
    segments, params = _segments(conn, window)
    rows = conn.execute(
        f"""SELECT "transaction", service, min(project_id), count(), sum(1.0 / sample_rate),
                   {QUANTILES}, {FAILURE_RATE}, {APDEX}
            FROM {segments} GROUP BY "transaction", service""",
        params,
    ).fetchall()
    return transaction_stats_rows(rows)


def web_vitals(
    conn: Connection, window: Window, bands: Mapping[str, tuple[float, float]]
) -> list[WebVitalStats]:
    """Each vital of each page load: its measurement or attribute, or a child's attribute."""
    check_keys(conn, window.filter, CLICKHOUSE)
    matching, params = _matching(window)
    names = ", ".join("?" for _ in PLACEHOLDER_PAGE_NAMES)
    ops = ", ".join("?" for _ in PAGE_OPS)
    pages = f"""SELECT project_id, trace_id, span_id, service, "transaction" AS tx,
                       measurements, data,
                       if("transaction" IN ({names}),
                          coalesce(JSONExtract(data, 'url.path', 'Nullable(String)'),
                                   "transaction"),
                          "transaction") AS page
                FROM {matching} AS m WHERE op IN ({ops})"""
    children = """SELECT p.page AS page, p.tx AS tx, p.service AS service,
                         p.project_id AS project_id, c.data AS data
                  FROM spans AS c INNER JOIN pages AS p ON c.project_id = p.project_id
                   AND c.trace_id = p.trace_id AND c.segment_id = p.span_id
                  WHERE NOT c.is_segment AND startsWith(c.op, 'ui.')
                    AND c.trace_id IN (SELECT trace_id FROM pages)"""
    own = """SELECT page, tx, service, project_id, ? AS vital, ? AS good, ? AS poor,
                    coalesce(JSONExtract(measurements, ?, 'value', 'Nullable(Float64)'),
                             JSONExtract(data, ?, 'Nullable(Float64)')) AS v
             FROM pages"""
    theirs = """SELECT page, tx, service, project_id, ? AS vital, ? AS good, ? AS poor,
                       JSONExtract(data, ?, 'Nullable(Float64)') AS v
                FROM children"""
    values: list[str] = []
    value_params: list[Any] = []
    for vital, (good, poor) in bands.items():
        attribute = f"browser.web_vital.{vital}.value"
        values += [own, theirs]
        value_params += [vital, good, poor, vital, attribute, vital, good, poor, attribute]
    rows = conn.execute(
        f"""WITH pages AS ({pages}), children AS ({children})
            SELECT page, tx, service, min(project_id), vital, count(),
                   quantileExactInclusive(0.75)(v), countIf(v <= good),
                   countIf(v > good AND v <= poor), countIf(v > poor)
            FROM ({" UNION ALL ".join(values)})
            WHERE v IS NOT NULL AND isFinite(v) AND tx IS NOT NULL
            GROUP BY page, tx, service, vital""",
        [*PLACEHOLDER_PAGE_NAMES, *params, *PAGE_OPS, *value_params],
    ).fetchall()
    return [WebVitalStats(*row) for row in rows]


def service_stats(conn: Connection, window: Window) -> list[ServiceStats]:
    segments, params = _segments(conn, window)
    erring, erring_params = _erring(window)
    rows = conn.execute(
        f"""SELECT service, count(), sum(1.0 / sample_rate), {APDEX},
                   avg(if({FAILED} OR {TRACE_KEY} IN {erring}, 1.0, 0.0)),
                   quantileExactInclusive(0.95)(duration_ms)
            FROM {segments} GROUP BY service""",
        [*erring_params, *params],
    ).fetchall()
    return [ServiceStats(*row) for row in rows]


def trace_summaries(
    conn: Connection, window: Window, status: str | None, sort: str, limit: int
) -> list[TraceSummary]:
    """One row per trace with a matching transaction in the window.

    Each row is described by the trace's earliest matching transaction; its
    duration and status are the whole trace's. ``argMin`` skips NULL values,
    as DuckDB's ``arg_min`` does: ``who`` is the earliest transaction's user
    that has one.
    """
    segments, params = _segments(conn, window, per="trace")
    order, direction = trace_order(sort)
    # Newest (or oldest) first without a status filter, the answer is among the
    # traces whose matching transactions start first: assemble only those, not
    # every trace of the window (the whole-trace scan is the expensive part).
    shortcut = status is None and order == "start_ts"
    candidates = f"""
        SELECT trace_id, min(start_ts) AS first_start,
               argMin("transaction", start_ts) AS tx, argMin(service, start_ts) AS service,
               argMin({USER_DISPLAY}, start_ts) AS who
        FROM {segments} GROUP BY trace_id
        {f"ORDER BY first_start {direction}, trace_id LIMIT ?" if shortcut else ""}"""
    m_params = [*params, *([limit * 4 + 50] if shortcut else [])]
    status_sql = "" if status is None else "WHERE trace_status = ?"
    rows = conn.execute(
        f"""WITH m AS ({candidates}),
            whole AS (
                SELECT trace_id, min(start_ts) AS trace_start,
                       (max(end_ts) - trace_start) * 1000.0 AS trace_ms,
                       max({FAILED}) AS failed
                FROM spans WHERE trace_id IN (SELECT trace_id FROM m) GROUP BY trace_id)
            SELECT * FROM (
                SELECT m.trace_id AS trace_id, m.tx, m.service,
                       whole.trace_ms AS duration_ms,
                       if(whole.failed OR m.trace_id IN (
                              SELECT trace_id FROM errors
                              WHERE trace_id IN (SELECT trace_id FROM m) AND category = 'error'),
                          'error', 'ok') AS trace_status,
                       m.who, whole.trace_start AS start_ts
                FROM m INNER JOIN whole ON whole.trace_id = m.trace_id)
            {status_sql}
            ORDER BY {order} {direction}, trace_id LIMIT ?""",
        [*m_params, *([status] if status else []), limit],
    ).fetchall()
    return [TraceSummary(*row) for row in rows]


def transaction_series(conn: Connection, window: Window, interval: float) -> list[SeriesPoint]:
    """Per bucket of ``interval`` seconds from the window's start; empty buckets omitted."""
    segments, params = _segments(conn, window)
    rows = conn.execute(
        f"""SELECT ? + floor((start_ts - ?) / ?) * ? AS bucket, count(),
                   sum(1.0 / sample_rate), {QUANTILES}, {FAILURE_RATE}
            FROM {segments} GROUP BY bucket ORDER BY bucket""",
        [window.start, window.start, interval, interval, *params],
    ).fetchall()
    return series_rows(rows)


def duration_samples(
    conn: Connection, window: Window, per_transaction: int
) -> list[DurationSample]:
    """Each transaction's samples (at most ``per_transaction``, evenly thinned).

    The sample is the transactions with the lowest hashes of their span ids,
    as on DuckDB, but the hash functions differ: the two backends keep
    different (equally spread) samples of a transaction with more.
    """
    segments, params = _segments(conn, window)
    rows = conn.execute(
        f"""SELECT "transaction", service, start_ts, duration_ms, CAST({FAILED} AS Bool)
            FROM (SELECT * FROM {segments}
                  ORDER BY "transaction", service, cityHash64(span_id)
                  LIMIT ? BY "transaction", service)
            ORDER BY "transaction", service, start_ts""",
        [*params, per_transaction],
    ).fetchall()
    return [DurationSample(*row) for row in rows]


def impact(conn: Connection, window: Window) -> ImpactStats:
    """Users and transactions among failing transactions and error events."""
    segments, params = _segments(conn, window)
    errors_where, error_params = compile_errors(window.filter, CLICKHOUSE)
    return impact_of(conn, segments, params, errors_where, error_params, window)


def window_totals(conn: Connection, window: Window) -> WindowTotals:
    """Every matching transaction of the window taken together (for alert rules)."""
    segments, params = _segments(conn, window)
    erring, erring_params = _erring(window)
    row = conn.execute(
        f"""SELECT count(), sum(1.0 / sample_rate),
                   quantilesExactInclusiveOrNull(0.5, 0.95)(duration_ms),
                   avgOrNull(if({FAILED}, 1.0, 0.0)),
                   avgOrNull(if({FAILED} OR {TRACE_KEY} IN {erring}, 1.0, 0.0))
            FROM {segments}""",
        [*erring_params, *params],
    ).fetchone()
    assert row is not None
    samples, count, quantiles, failure, error = row
    p50, p95 = quantiles or (None, None)  # [] over no rows
    return WindowTotals(samples, count, p50, p95, failure, error)


def list_spans(conn: Connection, window: Window, sort: str, limit: int) -> list[Span]:
    """Every span (not only transactions) that started in the window and matches; a
    row stored twice by a retried write group is listed once."""
    order, direction = span_order(sort)
    check_keys(conn, window.filter, CLICKHOUSE)
    where, params = compile_spans(window.filter, CLICKHOUSE)
    columns = ", ".join(f'"{c}"' for c in row_shapes.SPAN_COLUMNS)
    sql = (
        f"SELECT {columns} FROM spans WHERE start_ts >= ? AND start_ts < ? AND {where} "
        f"ORDER BY {order} {direction}, span_id LIMIT 1 BY trace_id, span_id LIMIT ?"
    )
    found = conn.execute(sql, [window.start, window.end, *params, limit]).fetchall()
    return [row_shapes.span_from_row(row) for row in found]


def _span_grouping(
    conn: Connection, window: Window, group_by: tuple[str, ...]
) -> tuple[list[str], list[Any], str, list[Any]]:
    """``(expressions, their parameters, where, its parameters)`` of a span grouping,
    its keys checked (a tag must have been seen)."""
    exprs, expr_params, tags = span_group_exprs(group_by, CH_SPANS.columns, CLICKHOUSE)
    has = [Cmp(tag, "has") for tag in tags]
    check_keys(conn, all_of([*([window.filter] if window.filter else []), *has]), CLICKHOUSE)
    where, params = compile_spans(window.filter, CLICKHOUSE)
    return exprs, expr_params, where, params


def span_groups(conn: Connection, window: Window, group_by: tuple[str, ...]) -> list[SpanGroup]:
    """The window's matching spans grouped by ``group_by``, the largest counts first."""
    exprs, expr_params, where, params = _span_grouping(conn, window, group_by)
    sql = span_aggregate_sql(exprs, where, QUANTILES)
    args = [*expr_params, window.start, window.end, *params, MAX_SPAN_GROUPS]
    return span_group_rows(conn.execute(sql, args).fetchall(), len(group_by))


def transaction_tags(conn: Connection, window: Window, top: int) -> list[TagBreakdown]:
    """Each tag's ``top`` values over the window's matching transactions, weighted."""
    segments, params = _segments(conn, window)
    rows = conn.execute(f"SELECT {TAG_COLUMNS}, sample_rate FROM {segments}", params)
    return tally_tags(rows.fetchall(), top)


def suspect_spans(conn: Connection, window: Window, limit: int) -> list[SuspectSpan]:
    """The span kinds of the window's transactions whose time per transaction grew
    most against the period before (:func:`~glasspane.store.analytics.suspect_spans_sql`)."""
    stretched = previous_and_current(window)
    segments, params = _segments(conn, stretched)
    args = [window.start, *params, stretched.start - SPAN_LEAD_S]
    rows = conn.execute(suspect_spans_sql(segments), args).fetchall()
    return suspect_rows(rows, limit)


def span_group_series(
    conn: Connection,
    window: Window,
    group_by: tuple[str, ...],
    groups: Sequence[tuple[str | None, ...]],
    interval: float,
) -> list[SpanGroupPoint]:
    """``groups``' spans per bucket of ``interval`` seconds from the window's start."""
    exprs, expr_params, where, params = _span_grouping(conn, window, group_by)
    sql, group_params = span_series_sql(exprs, where, QUANTILES, groups)
    bucket = [window.start, window.start, interval, interval]
    args = [*bucket, *expr_params, window.start, window.end, *params, *group_params]
    return span_series_rows(conn.execute(sql, args).fetchall(), len(group_by))


class AnalyticsReads:
    """The analytics reads (:class:`~glasspane.store.api.AnalyticsReader`)."""

    _conn: Connection

    def transaction_stats(self, window: Window) -> list[TransactionStats]:
        return transaction_stats(self._conn, window)

    def web_vitals(
        self, window: Window, bands: Mapping[str, tuple[float, float]]
    ) -> list[WebVitalStats]:
        return web_vitals(self._conn, window, bands)

    def service_stats(self, window: Window) -> list[ServiceStats]:
        return service_stats(self._conn, window)

    def trace_summaries(
        self, window: Window, status: str | None, sort: str, limit: int
    ) -> list[TraceSummary]:
        return trace_summaries(self._conn, window, status, sort, limit)

    def transaction_series(self, window: Window, interval: float) -> list[SeriesPoint]:
        return transaction_series(self._conn, window, interval)

    def duration_samples(self, window: Window, per_transaction: int) -> list[DurationSample]:
        return duration_samples(self._conn, window, per_transaction)

    def impact(self, window: Window) -> ImpactStats:
        return impact(self._conn, window)

    def window_totals(self, window: Window) -> WindowTotals:
        return window_totals(self._conn, window)

    def list_spans(self, window: Window, sort: str, limit: int) -> list[Span]:
        return list_spans(self._conn, window, sort, limit)

    def span_groups(self, window: Window, group_by: tuple[str, ...]) -> list[SpanGroup]:
        return span_groups(self._conn, window, group_by)

    def transaction_tags(self, window: Window, top: int = 5) -> list[TagBreakdown]:
        return transaction_tags(self._conn, window, top)

    def suspect_spans(self, window: Window, limit: int) -> list[SuspectSpan]:
        return suspect_spans(self._conn, window, limit)

    def span_group_series(
        self,
        window: Window,
        group_by: tuple[str, ...],
        groups: Sequence[tuple[str | None, ...]],
        interval: float,
    ) -> list[SpanGroupPoint]:
        return span_group_series(self._conn, window, group_by, groups, interval)

    def validate_filter(self, tree: Filter | None) -> None:
        check_keys(self._conn, tree, CLICKHOUSE)

    def matching_span_ids(self, trace_id: str, tree: Filter | None) -> set[str]:
        terms = span_terms(tree)
        if terms is None:
            return set()
        check_keys(self._conn, terms, CLICKHOUSE)
        where, params = compile_span_terms(terms, CLICKHOUSE)
        sql = f"SELECT span_id FROM spans WHERE trace_id = ? AND {where}"
        rows = self._conn.execute(sql, [trace_id, *params]).fetchall()
        return {str(row[0]) for row in rows}
