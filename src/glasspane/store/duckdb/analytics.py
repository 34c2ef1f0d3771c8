"""Performance analytics over the ``spans`` table: SQL for the DuckDB store.

The definitions both backends share (failure, Apdex, sorts) and the row
conversions are in :mod:`glasspane.store.analytics`. Exact percentiles:
``quantile_cont`` interpolates linearly between order statistics.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import duckdb

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
from glasspane.store.search_keys import DUCKDB, SPAN_COLUMNS
from glasspane.store.where import (
    Per,
    check_keys,
    compile_errors,
    compile_segments,
    compile_span_terms,
    compile_spans,
    span_terms,
)

Cursor = duckdb.DuckDBPyConnection

#: p50 and p95 in one aggregate: each quantile_cont keeps its own copy of the
#: durations, so asking for both at once halves the work of the largest step.
QUANTILES = "quantile_cont(duration_ms, [0.5, 0.95])"


def _segments(cur: Cursor, window: Window, per: Per = "transaction") -> tuple[str, list[Any]]:
    """A subquery of the window's transactions, with their project's Apdex T.

    Span-level terms ask about the spans of each transaction, or with
    ``per="trace"`` of its whole trace (:class:`~glasspane.store.where.SegmentCompiler`).

    Raises :class:`QueryError` (400) for a key that is neither known nor a tag.
    """
    check_keys(cur, window.filter)
    where, params = compile_segments(window.filter, per=per)
    sql = (
        "(SELECT s.*, p.apdex_threshold_ms AS apdex_t FROM segments s "
        "JOIN projects p ON p.id = s.project_id "
        f"WHERE s.start_ts >= ? AND s.start_ts < ? AND {where})"
    )
    return sql, [window.start, window.end, *params]


def transaction_stats(cur: Cursor, window: Window) -> list[TransactionStats]:
    segments, params = _segments(cur, window)
    rows = cur.execute(
        f"""SELECT "transaction", service, min(project_id), count(*), sum(1.0 / sample_rate),
                   {QUANTILES}, avg(CASE WHEN {FAILED} THEN 1.0 ELSE 0.0 END), {APDEX}
            FROM {segments} GROUP BY "transaction", service""",
        params,
    ).fetchall()
    return transaction_stats_rows(rows)


def web_vitals(
    cur: Cursor, window: Window, bands: Mapping[str, tuple[float, float]]
) -> list[WebVitalStats]:
    """Each vital of each page load: its measurement or attribute, or a child's attribute."""
    check_keys(cur, window.filter)
    where, filter_params = compile_segments(window.filter, per="transaction")
    names = ", ".join("?" for _ in PLACEHOLDER_PAGE_NAMES)
    ops = ", ".join("?" for _ in PAGE_OPS)
    pages = f"""SELECT project_id, trace_id, span_id, service, "transaction" AS tx,
                       measurements, data,
                       CASE WHEN "transaction" IN ({names})
                            THEN coalesce(json_extract_string(data, '$."url.path"'),
                                          "transaction")
                            ELSE "transaction" END AS page
                FROM segments s
                WHERE s.start_ts >= ? AND s.start_ts < ? AND {where} AND op IN ({ops})"""
    children = """SELECT p.page, p.tx, p.service, p.project_id, c.data
                  FROM spans c JOIN pages p ON c.project_id = p.project_id
                   AND c.trace_id = p.trace_id AND c.segment_id = p.span_id
                  WHERE NOT c.is_segment AND c.op LIKE 'ui.%'"""
    own = """SELECT page, tx, service, project_id, ? AS vital, ? AS good, ? AS poor,
                    coalesce(TRY_CAST(json_extract_string(measurements, ?) AS DOUBLE),
                             TRY_CAST(json_extract_string(data, ?) AS DOUBLE)) AS v
             FROM pages"""
    theirs = """SELECT page, tx, service, project_id, ? AS vital, ? AS good, ? AS poor,
                       TRY_CAST(json_extract_string(data, ?) AS DOUBLE) AS v
                FROM children"""
    values: list[str] = []
    value_params: list[Any] = []
    for vital, (good, poor) in bands.items():
        attribute = f'$."browser.web_vital.{vital}.value"'
        values += [own, theirs]
        value_params += [vital, good, poor, f"$.{vital}.value", attribute]
        value_params += [vital, good, poor, attribute]
    rows = cur.execute(
        f"""WITH pages AS ({pages}), children AS ({children}),
                 vals AS ({" UNION ALL ".join(values)})
            SELECT page, tx, service, min(project_id), vital, count(*),
                   quantile_cont(v, 0.75), count_if(v <= good),
                   count_if(v > good AND v <= poor), count_if(v > poor)
            FROM vals WHERE v IS NOT NULL AND isfinite(v) AND tx IS NOT NULL
            GROUP BY page, tx, service, vital""",
        [
            *PLACEHOLDER_PAGE_NAMES,
            window.start,
            window.end,
            *filter_params,
            *PAGE_OPS,
            *value_params,
        ],
    ).fetchall()
    return [WebVitalStats(*row) for row in rows]


def service_stats(cur: Cursor, window: Window) -> list[ServiceStats]:
    segments, params = _segments(cur, window)
    rows = cur.execute(
        f"""WITH tx AS (SELECT * FROM {segments}),
                 errs AS (SELECT DISTINCT project_id, trace_id FROM errors
                          WHERE trace_id IN (SELECT trace_id FROM tx) AND category = 'error')
            SELECT service, count(*), sum(1.0 / sample_rate), {APDEX},
                   avg(CASE WHEN {FAILED} OR errs.trace_id IS NOT NULL THEN 1.0 ELSE 0.0 END),
                   quantile_cont(duration_ms, 0.95)
            FROM tx LEFT JOIN errs USING (project_id, trace_id)
            GROUP BY service""",
        params,
    ).fetchall()
    return [ServiceStats(*row) for row in rows]


def trace_summaries(
    cur: Cursor, window: Window, status: str | None, sort: str, limit: int
) -> list[TraceSummary]:
    """One row per trace with a matching transaction in the window.

    Each row is described by the trace's earliest matching transaction; its
    duration and status are the whole trace's.
    """
    segments, params = _segments(cur, window, per="trace")
    order, direction = trace_order(sort)
    status_sql = "" if status is None else "WHERE trace_status = ?"
    # Newest (or oldest) first without a status filter, the answer is among the
    # traces whose matching transactions start first: assemble only those, not
    # every trace of the window (the whole-trace scan is the expensive part).
    shortcut = status is None and order == "start_ts"
    candidates = (
        f"SELECT * FROM matched ORDER BY first_start {direction} LIMIT ?"
        if shortcut
        else "SELECT * FROM matched"
    )
    rows = cur.execute(
        f"""WITH matched AS (
                SELECT trace_id, min(start_ts) AS first_start,
                       arg_min("transaction", start_ts) AS tx,
                       arg_min(service, start_ts) AS service,
                       arg_min({USER_DISPLAY}, start_ts) AS who
                FROM {segments} GROUP BY trace_id),
            m AS ({candidates}),
            whole AS (
                SELECT trace_id, min(start_ts) AS start_ts,
                       (max(end_ts) - min(start_ts)) * 1000.0 AS duration_ms,
                       bool_or({FAILED}) AS failed
                FROM spans WHERE trace_id IN (SELECT trace_id FROM m) GROUP BY trace_id),
            errs AS (SELECT DISTINCT trace_id FROM errors
                     WHERE trace_id IN (SELECT trace_id FROM m) AND category = 'error'),
            rows AS (
                SELECT m.trace_id, m.tx, m.service, whole.duration_ms,
                       CASE WHEN whole.failed OR errs.trace_id IS NOT NULL
                            THEN 'error' ELSE 'ok' END AS trace_status,
                       m.who, whole.start_ts
                FROM m JOIN whole USING (trace_id) LEFT JOIN errs USING (trace_id))
            SELECT * FROM rows {status_sql}
            ORDER BY {order} {direction}, trace_id LIMIT ?""",
        [*params, *([limit * 4 + 50] if shortcut else []), *([status] if status else []), limit],
    ).fetchall()
    return [TraceSummary(*row) for row in rows]


def transaction_series(cur: Cursor, window: Window, interval: float) -> list[SeriesPoint]:
    """Per bucket of ``interval`` seconds from the window's start; empty buckets omitted."""
    segments, params = _segments(cur, window)
    rows = cur.execute(
        f"""SELECT ? + floor((start_ts - ?) / ?) * ? AS bucket, count(*),
                   sum(1.0 / sample_rate), {QUANTILES},
                   avg(CASE WHEN {FAILED} THEN 1.0 ELSE 0.0 END)
            FROM {segments} GROUP BY bucket ORDER BY bucket""",
        [window.start, window.start, interval, interval, *params],
    ).fetchall()
    return series_rows(rows)


def duration_samples(cur: Cursor, window: Window, per_transaction: int) -> list[DurationSample]:
    """Each transaction's samples (at most ``per_transaction``, evenly thinned)."""
    segments, params = _segments(cur, window)
    rows = cur.execute(
        f"""SELECT "transaction", service, start_ts, duration_ms, {FAILED}
            FROM (SELECT *, row_number() OVER (PARTITION BY "transaction", service
                                               ORDER BY hash(span_id)) AS n,
                         count(*) OVER (PARTITION BY "transaction", service) AS total
                  FROM {segments})
            WHERE n <= ? ORDER BY "transaction", service, start_ts""",
        [*params, per_transaction],
    ).fetchall()
    return [DurationSample(*row) for row in rows]


def impact(cur: Cursor, window: Window) -> ImpactStats:
    """Users and transactions among failing transactions and error events."""
    segments, params = _segments(cur, window)
    errors_where, error_params = compile_errors(window.filter)
    return impact_of(cur, segments, params, errors_where, error_params, window)


def window_totals(cur: Cursor, window: Window) -> WindowTotals:
    """Every matching transaction of the window taken together (for alert rules)."""
    segments, params = _segments(cur, window)
    row = cur.execute(
        f"""WITH tx AS (SELECT * FROM {segments}),
                 errs AS (SELECT DISTINCT project_id, trace_id FROM errors
                          WHERE trace_id IN (SELECT trace_id FROM tx) AND category = 'error')
            SELECT count(*), coalesce(sum(1.0 / sample_rate), 0),
                   quantile_cont(duration_ms, 0.5) AS p50, quantile_cont(duration_ms, 0.95),
                   avg(CASE WHEN {FAILED} THEN 1.0 ELSE 0.0 END),
                   avg(CASE WHEN {FAILED} OR errs.trace_id IS NOT NULL THEN 1.0 ELSE 0.0 END)
            FROM tx LEFT JOIN errs USING (project_id, trace_id)""",
        params,
    ).fetchone()
    assert row is not None
    return WindowTotals(*row)


def list_spans(cur: Cursor, window: Window, sort: str, limit: int) -> list[Span]:
    """Every span (not only transactions) that started in the window and matches."""
    order, direction = span_order(sort)
    check_keys(cur, window.filter)
    where, params = compile_spans(window.filter)
    columns = ", ".join(f'"{c}"' for c in row_shapes.SPAN_COLUMNS)
    sql = (
        f"SELECT {columns} FROM spans WHERE start_ts >= ? AND start_ts < ? AND {where} "
        f"ORDER BY {order} {direction}, span_id LIMIT ?"
    )
    found = cur.execute(sql, [window.start, window.end, *params, limit]).fetchall()
    return [row_shapes.span_from_row(row) for row in found]


def _span_grouping(
    cur: Cursor, window: Window, group_by: tuple[str, ...]
) -> tuple[list[str], list[Any], str, list[Any]]:
    """``(expressions, their parameters, where, its parameters)`` of a span grouping,
    its keys checked (a tag must have been seen)."""
    exprs, expr_params, tags = span_group_exprs(group_by, SPAN_COLUMNS, DUCKDB)
    has = [Cmp(tag, "has") for tag in tags]
    check_keys(cur, all_of([*([window.filter] if window.filter else []), *has]))
    where, params = compile_spans(window.filter)
    return exprs, expr_params, where, params


def span_groups(cur: Cursor, window: Window, group_by: tuple[str, ...]) -> list[SpanGroup]:
    """The window's matching spans grouped by ``group_by``, the largest counts first."""
    exprs, expr_params, where, params = _span_grouping(cur, window, group_by)
    sql = span_aggregate_sql(exprs, where, QUANTILES)
    args = [*expr_params, window.start, window.end, *params, MAX_SPAN_GROUPS]
    return span_group_rows(cur.execute(sql, args).fetchall(), len(group_by))


def transaction_tags(cur: Cursor, window: Window, top: int) -> list[TagBreakdown]:
    """Each tag's ``top`` values over the window's matching transactions, weighted."""
    segments, params = _segments(cur, window)
    cur.execute(f"SELECT {TAG_COLUMNS}, sample_rate FROM {segments}", params)
    return tally_tags(iter(cur.fetchone, None), top)


def suspect_spans(cur: Cursor, window: Window, limit: int) -> list[SuspectSpan]:
    """The span kinds of the window's transactions whose time per transaction grew
    most against the period before (:func:`~glasspane.store.analytics.suspect_spans_sql`)."""
    stretched = previous_and_current(window)
    segments, params = _segments(cur, stretched)
    args = [window.start, *params, stretched.start - SPAN_LEAD_S]
    rows = cur.execute(suspect_spans_sql(segments), args).fetchall()
    return suspect_rows(rows, limit)


def span_group_series(
    cur: Cursor,
    window: Window,
    group_by: tuple[str, ...],
    groups: Sequence[tuple[str | None, ...]],
    interval: float,
) -> list[SpanGroupPoint]:
    """``groups``' spans per bucket of ``interval`` seconds from the window's start."""
    exprs, expr_params, where, params = _span_grouping(cur, window, group_by)
    sql, group_params = span_series_sql(exprs, where, QUANTILES, groups)
    bucket = [window.start, window.start, interval, interval]
    args = [*bucket, *expr_params, window.start, window.end, *params, *group_params]
    return span_series_rows(cur.execute(sql, args).fetchall(), len(group_by))


class AnalyticsReads:
    """The analytics reads (:class:`~glasspane.store.api.AnalyticsReader`), each on a
    cursor of its own."""

    _cursor: Callable[[], AbstractContextManager[Cursor]]

    def transaction_stats(self, window: Window) -> list[TransactionStats]:
        with self._cursor() as cur:
            return transaction_stats(cur, window)

    def web_vitals(
        self, window: Window, bands: Mapping[str, tuple[float, float]]
    ) -> list[WebVitalStats]:
        with self._cursor() as cur:
            return web_vitals(cur, window, bands)

    def service_stats(self, window: Window) -> list[ServiceStats]:
        with self._cursor() as cur:
            return service_stats(cur, window)

    def trace_summaries(
        self, window: Window, status: str | None, sort: str, limit: int
    ) -> list[TraceSummary]:
        with self._cursor() as cur:
            return trace_summaries(cur, window, status, sort, limit)

    def transaction_series(self, window: Window, interval: float) -> list[SeriesPoint]:
        with self._cursor() as cur:
            return transaction_series(cur, window, interval)

    def duration_samples(self, window: Window, per_transaction: int) -> list[DurationSample]:
        with self._cursor() as cur:
            return duration_samples(cur, window, per_transaction)

    def impact(self, window: Window) -> ImpactStats:
        with self._cursor() as cur:
            return impact(cur, window)

    def window_totals(self, window: Window) -> WindowTotals:
        with self._cursor() as cur:
            return window_totals(cur, window)

    def list_spans(self, window: Window, sort: str, limit: int) -> list[Span]:
        with self._cursor() as cur:
            return list_spans(cur, window, sort, limit)

    def span_groups(self, window: Window, group_by: tuple[str, ...]) -> list[SpanGroup]:
        with self._cursor() as cur:
            return span_groups(cur, window, group_by)

    def transaction_tags(self, window: Window, top: int = 5) -> list[TagBreakdown]:
        with self._cursor() as cur:
            return transaction_tags(cur, window, top)

    def suspect_spans(self, window: Window, limit: int) -> list[SuspectSpan]:
        with self._cursor() as cur:
            return suspect_spans(cur, window, limit)

    def span_group_series(
        self,
        window: Window,
        group_by: tuple[str, ...],
        groups: Sequence[tuple[str | None, ...]],
        interval: float,
    ) -> list[SpanGroupPoint]:
        with self._cursor() as cur:
            return span_group_series(cur, window, group_by, groups, interval)

    def validate_filter(self, tree: Filter | None) -> None:
        with self._cursor() as cur:
            check_keys(cur, tree)

    def matching_span_ids(self, trace_id: str, tree: Filter | None) -> set[str]:
        terms = span_terms(tree)
        if terms is None:
            return set()
        with self._cursor() as cur:
            check_keys(cur, terms)
            where, params = compile_span_terms(terms)
            sql = f"SELECT span_id FROM spans WHERE trace_id = ? AND {where}"
            return {str(row[0]) for row in cur.execute(sql, [trace_id, *params]).fetchall()}
