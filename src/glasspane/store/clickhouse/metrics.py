"""Metrics reads, in ClickHouse SQL.

A mixin of :class:`~glasspane.store.clickhouse.store.ClickHouseStore`; the
same queries as :mod:`glasspane.store.duckdb.metrics`, with the same filters
(:mod:`glasspane.store.attribute_where`) and the same folding of the rows into
buckets (:mod:`glasspane.store.metric_buckets`). What differs is spelled out
where it occurs: ``argMax``, ``lagInFrame``, ``quantileExactInclusive``.

Metric rows have no identity, so a row written twice (a group retried
after a partial failure, see the store) is read twice: unlike a span, it
cannot be told from a second, identical record.
"""

from __future__ import annotations

from typing import Any

from glasspane.store import attribute_where, metric_buckets
from glasspane.store.clickhouse.connection import Connection
from glasspane.store.models import MetricBucket, MetricInfo, MetricQuery, Window
from glasspane.store.search_keys import CLICKHOUSE

#: What names a cumulative series (see :func:`glasspane.store.rows.metric_row`).
_SERIES = "project_id, service, attributes, start_ts"
#: A metric's latest type and unit (``argMax`` skips NULL units, as DuckDB's ``arg_max``).
_METRIC_INFO = """SELECT name, argMax(type, "timestamp"), argMax(unit, "timestamp"), count(),
                         max("timestamp") FROM metrics"""


class MetricReads:
    _conn: Connection

    def describe_metric(self, name: str) -> MetricInfo | None:
        row = self._conn.execute(f"{_METRIC_INFO} WHERE name = ? GROUP BY name", [name]).fetchone()
        return MetricInfo(*row) if row else None

    def list_metrics(self, window: Window) -> list[MetricInfo]:
        condition, params = attribute_where.checked_filter(
            self._conn, attribute_where.CH_METRICS, window.filter, CLICKHOUSE
        )
        found = self._conn.execute(
            f"""{_METRIC_INFO} WHERE "timestamp" >= ? AND "timestamp" < ? AND {condition}
                GROUP BY name ORDER BY name""",
            [window.start, window.end, *params],
        ).fetchall()
        return [MetricInfo(*row) for row in found]

    def metric_series(self, query: MetricQuery) -> list[MetricBucket]:
        table = attribute_where.CH_METRICS
        condition, params = attribute_where.checked_filter(
            self._conn,
            table,
            query.window.filter,
            CLICKHOUSE,
            also=[query.group_by] if query.group_by else [],
        )
        group, group_params = (
            attribute_where.group_expression(table, query.group_by, CLICKHOUSE)
            if query.group_by
            else ("NULL", [])
        )
        where = metric_buckets.MetricWhere(condition, params, group, group_params)
        return metric_buckets.series(
            query, self._value_rows(query, where), self._histogram_rows(query, where)
        )

    def _value_rows(
        self, query: MetricQuery, where: metric_buckets.MetricWhere
    ) -> list[tuple[Any, ...]]:
        """Single values per bucket and group. ``lagInFrame`` is ``lag``: the frame
        (by default every row up to this one) holds the previous point; NULL before
        the first, as ``value`` is Nullable. ``quantileExactInclusive`` interpolates
        like DuckDB's ``quantile_cont``."""
        return self._conn.execute(
            f"""WITH cumulative AS (
                    SELECT ts, grp, if(prev IS NULL OR value < prev, value, value - prev) AS v
                    FROM (SELECT "timestamp" AS ts, {where.group} AS grp, value,
                                 lagInFrame(value) OVER (PARTITION BY {_SERIES}
                                                         ORDER BY "timestamp") AS prev
                          FROM metrics
                          WHERE name = ? AND bucket_counts IS NULL
                            AND temporality = 'cumulative' AND "timestamp" < ?
                            AND {where.condition})
                    WHERE ts >= ? AND value IS DISTINCT FROM prev),
                points AS (
                    SELECT "timestamp" AS ts, {where.group} AS grp, value AS v FROM metrics
                    WHERE name = ? AND bucket_counts IS NULL
                      AND temporality IS DISTINCT FROM 'cumulative'
                      AND "timestamp" >= ? AND "timestamp" < ? AND {where.condition}
                    UNION ALL SELECT ts, grp, v FROM cumulative)
                SELECT toInt64(floor((ts - ?) / ?)) AS bucket, grp, count(), sum(v), min(v),
                       max(v), quantileExactInclusive(0.5)(v), quantileExactInclusive(0.95)(v)
                FROM points GROUP BY bucket, grp""",
            where.value_params(query),
        ).fetchall()

    def _histogram_rows(
        self, query: MetricQuery, where: metric_buckets.MetricWhere
    ) -> list[tuple[Any, ...]]:
        """Histogram points in time order, cumulative ones from before the window too
        (the baseline of their first increment)."""
        return self._conn.execute(
            f"""SELECT "timestamp", {where.group}, {_SERIES}, "count", "sum", "min", "max",
                       bucket_bounds, bucket_counts, temporality = 'cumulative'
                FROM metrics
                WHERE name = ? AND bucket_counts IS NOT NULL AND "timestamp" < ?
                  AND ("timestamp" >= ? OR temporality = 'cumulative') AND {where.condition}
                ORDER BY "timestamp"
            """,
            where.histogram_params(query),
        ).fetchall()
