"""Reading the ``metrics`` table: series per bucket and group, and the catalogue.

Single values (Sentry ``trace_metric``, OTLP sums and gauges) are aggregated in
SQL with exact percentiles (``quantile_cont``). A cumulative OTLP sum counts
by its increase over the series' previous point (``lag`` over the series:
project, service, sorted attributes and start time), so its earlier points
are read too; a point that repeats the total (exported again, nothing
happened) is not counted. Histogram points are few and folded in Python
(:mod:`glasspane.store.histograms`), then merged with the values
(:mod:`glasspane.store.metric_buckets`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import duckdb

from glasspane.store import attribute_where, metric_buckets
from glasspane.store.models import MetricBucket, MetricInfo, MetricQuery, Window

Cursor = duckdb.DuckDBPyConnection
_SERIES = "project_id, service, attributes, start_ts"


def describe(cur: Cursor, name: str) -> MetricInfo | None:
    row = cur.execute(
        """SELECT name, arg_max(type, "timestamp"), arg_max(unit, "timestamp"), count(*),
                  max("timestamp")
           FROM metrics WHERE name = ? GROUP BY name""",
        [name],
    ).fetchone()
    return MetricInfo(*row) if row else None


def list_metrics(cur: Cursor, window: Window) -> list[MetricInfo]:
    condition, params = attribute_where.checked_filter(cur, attribute_where.METRICS, window.filter)
    found = cur.execute(
        f"""SELECT name, arg_max(type, "timestamp"), arg_max(unit, "timestamp"), count(*),
                   max("timestamp")
            FROM metrics WHERE "timestamp" >= ? AND "timestamp" < ? AND {condition}
            GROUP BY name ORDER BY name""",
        [window.start, window.end, *params],
    ).fetchall()
    return [MetricInfo(*row) for row in found]


def series(cur: Cursor, query: MetricQuery) -> list[MetricBucket]:
    w = query.window
    table = attribute_where.METRICS
    condition, params = attribute_where.checked_filter(
        cur, table, w.filter, also=[query.group_by] if query.group_by else []
    )
    group, group_params = (
        attribute_where.group_expression(table, query.group_by) if query.group_by else ("NULL", [])
    )
    where = metric_buckets.MetricWhere(condition, params, group, group_params)
    return metric_buckets.series(
        query, _value_rows(cur, query, where), _histogram_rows(cur, query, where)
    )


def _value_rows(
    cur: Cursor, query: MetricQuery, where: metric_buckets.MetricWhere
) -> list[tuple[Any, ...]]:
    return cur.execute(
        f"""WITH cumulative AS (
                SELECT "timestamp" AS ts, grp,
                       CASE WHEN prev IS NULL OR value < prev THEN value
                            ELSE value - prev END AS v
                FROM (SELECT "timestamp", {where.group} AS grp, value,
                             lag(value) OVER (PARTITION BY {_SERIES}
                                              ORDER BY "timestamp") AS prev
                      FROM metrics
                      WHERE name = ? AND bucket_counts IS NULL AND temporality = 'cumulative'
                        AND "timestamp" < ? AND {where.condition})
                WHERE "timestamp" >= ? AND value IS DISTINCT FROM prev),
            points AS (
                SELECT "timestamp" AS ts, {where.group} AS grp, value AS v FROM metrics
                WHERE name = ? AND bucket_counts IS NULL
                  AND temporality IS DISTINCT FROM 'cumulative'
                  AND "timestamp" >= ? AND "timestamp" < ? AND {where.condition}
                UNION ALL SELECT * FROM cumulative)
            SELECT floor((ts - ?) / ?)::BIGINT AS bucket, grp, count(*), sum(v), min(v),
                   max(v), quantile_cont(v, 0.5), quantile_cont(v, 0.95)
            FROM points GROUP BY bucket, grp""",
        where.value_params(query),
    ).fetchall()


def _histogram_rows(
    cur: Cursor, query: MetricQuery, where: metric_buckets.MetricWhere
) -> list[tuple[Any, ...]]:
    return cur.execute(
        f"""SELECT "timestamp", {where.group}, {_SERIES}, count, sum, min, max,
                   bucket_bounds, bucket_counts, temporality = 'cumulative'
            FROM metrics
            WHERE name = ? AND bucket_counts IS NOT NULL AND "timestamp" < ?
              AND ("timestamp" >= ? OR temporality = 'cumulative') AND {where.condition}
            ORDER BY 1""",
        where.histogram_params(query),
    ).fetchall()


class MetricReads:
    """The metric reads (of :class:`~glasspane.store.api.LogMetricReader`), each on a
    cursor of its own."""

    _cursor: Callable[[], AbstractContextManager[Cursor]]

    def describe_metric(self, name: str) -> MetricInfo | None:
        with self._cursor() as cur:
            return describe(cur, name)

    def list_metrics(self, window: Window) -> list[MetricInfo]:
        with self._cursor() as cur:
            return list_metrics(cur, window)

    def metric_series(self, query: MetricQuery) -> list[MetricBucket]:
        with self._cursor() as cur:
            return series(cur, query)
