"""Reading the ``metrics`` table: series per bucket and group, and the catalogue.

Single values (Sentry ``trace_metric``, OTLP sums and gauges) are aggregated in
SQL with exact percentiles (``quantile_cont``). A cumulative OTLP sum counts
by its increase over the series' previous point (``lag`` over the series:
project, service, sorted attributes and start time), so its earlier points
are read too; a point that repeats the total (exported again, nothing
happened) is not counted. Histogram points are few and folded in Python
(:mod:`glasspane.store.histograms`).
"""

from __future__ import annotations

from typing import Any

import duckdb
import orjson

from glasspane.store.api import MetricBucket, MetricInfo, MetricQuery, Window
from glasspane.store.duckdb import attribute_where
from glasspane.store.histograms import Folded, HistogramRow, fold

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
    condition, params = _filter(cur, window, None)
    found = cur.execute(
        f"""SELECT name, arg_max(type, "timestamp"), arg_max(unit, "timestamp"), count(*),
                   max("timestamp")
            FROM metrics WHERE "timestamp" >= ? AND "timestamp" < ? AND {condition}
            GROUP BY name ORDER BY name""",
        [window.start, window.end, *params],
    ).fetchall()
    return [MetricInfo(*row) for row in found]


def _filter(cur: Cursor, window: Window, group_by: str | None) -> tuple[str, list[Any]]:
    table = attribute_where.METRICS
    keys = attribute_where.filter_keys(window.filter)
    attribute_where.check_keys(cur, table, keys + ([group_by] if group_by else []))
    return attribute_where.compile_filter(table, window.filter)


def series(cur: Cursor, query: MetricQuery) -> list[MetricBucket]:
    w = query.window
    condition, params = _filter(cur, w, query.group_by)
    group, group_params = (
        attribute_where.group_expression(attribute_where.METRICS, query.group_by)
        if query.group_by
        else ("NULL", [])
    )
    values = _value_buckets(cur, query, condition, params, group, group_params)
    histograms = _histogram_buckets(cur, query, condition, params, group, group_params)
    return _merge(query, values, histograms)


def _value_buckets(
    cur: Cursor,
    query: MetricQuery,
    condition: str,
    params: list[Any],
    group: str,
    group_params: list[Any],
) -> dict[tuple[int, str | None], MetricBucket]:
    w = query.window
    found = cur.execute(
        f"""WITH cumulative AS (
                SELECT "timestamp" AS ts, grp,
                       CASE WHEN prev IS NULL OR value < prev THEN value
                            ELSE value - prev END AS v
                FROM (SELECT "timestamp", {group} AS grp, value,
                             lag(value) OVER (PARTITION BY {_SERIES}
                                              ORDER BY "timestamp") AS prev
                      FROM metrics
                      WHERE name = ? AND bucket_counts IS NULL AND temporality = 'cumulative'
                        AND "timestamp" < ? AND {condition})
                WHERE "timestamp" >= ? AND value IS DISTINCT FROM prev),
            points AS (
                SELECT "timestamp" AS ts, {group} AS grp, value AS v FROM metrics
                WHERE name = ? AND bucket_counts IS NULL
                  AND temporality IS DISTINCT FROM 'cumulative'
                  AND "timestamp" >= ? AND "timestamp" < ? AND {condition}
                UNION ALL SELECT * FROM cumulative)
            SELECT floor((ts - ?) / ?)::BIGINT AS bucket, grp, count(*), sum(v), min(v),
                   max(v), quantile_cont(v, 0.5), quantile_cont(v, 0.95)
            FROM points GROUP BY bucket, grp""",
        [
            *group_params,
            query.name,
            w.end,
            *params,
            w.start,
            *group_params,
            query.name,
            w.start,
            w.end,
            *params,
            w.start,
            query.interval,
        ],
    ).fetchall()
    return {
        (row[0], row[1]): MetricBucket(w.start + row[0] * query.interval, *row[1:]) for row in found
    }


def _histogram_buckets(
    cur: Cursor,
    query: MetricQuery,
    condition: str,
    params: list[Any],
    group: str,
    group_params: list[Any],
) -> dict[tuple[int, str | None], Folded]:
    w = query.window
    found = cur.execute(
        f"""SELECT "timestamp", {group}, {_SERIES}, count, sum, min, max,
                   bucket_bounds, bucket_counts, temporality = 'cumulative'
            FROM metrics
            WHERE name = ? AND bucket_counts IS NOT NULL AND "timestamp" < ?
              AND ("timestamp" >= ? OR temporality = 'cumulative') AND {condition}
            ORDER BY 1""",
        [*group_params, query.name, w.end, w.start, *params],
    ).fetchall()
    rows = [
        HistogramRow(
            timestamp=r[0],
            group=r[1],
            series=(r[2], r[3], r[4], r[5]),
            count=int(r[6]),
            total=float(r[7]),
            min=r[8],
            max=r[9],
            bounds=tuple(orjson.loads(r[10])),
            counts=tuple(orjson.loads(r[11])),
            cumulative=bool(r[12]),
        )
        for r in found
    ]
    return fold(rows, w.start, w.end, query.interval)


def _merge(
    query: MetricQuery,
    values: dict[tuple[int, str | None], MetricBucket],
    histograms: dict[tuple[int, str | None], Folded],
) -> list[MetricBucket]:
    out = dict(values)
    for key, folded in histograms.items():
        bucket = out.get(key)
        if bucket is None:
            out[key] = MetricBucket(
                query.window.start + key[0] * query.interval,
                key[1],
                folded.count,
                folded.total,
                folded.min,
                folded.max,
                folded.quantile(0.5),
                folded.quantile(0.95),
            )
            continue
        bucket.count += folded.count
        bucket.sum += folded.total
        bucket.min = _extreme(min, bucket.min, folded.min)
        bucket.max = _extreme(max, bucket.max, folded.max)
        bucket.p50 = bucket.p95 = None  # exact values and buckets do not combine
    return sorted(out.values(), key=lambda b: (b.timestamp, b.group is None, b.group or ""))


def _extreme(pick: Any, a: float | None, b: float | None) -> float | None:
    present = [x for x in (a, b) if x is not None]
    return pick(present) if present else None
