"""Rows of a metric query → :class:`~glasspane.store.models.MetricBucket`, for every backend.

A backend answers :meth:`~glasspane.store.api.LogMetricReader.metric_series` with two
queries, and hands their rows here (pure, no I/O):

- single values, aggregated in SQL: ``(bucket index, group, count, sum, min,
  max, p50, p95)`` per bucket and group;
- histogram points, one row each in time order (see :func:`histogram_row`),
  folded by :mod:`glasspane.store.histograms`.

A bucket holding both kinds adds them up; its percentiles are ``None``, as
exact values and histogram buckets do not combine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from glasspane.store.histograms import Folded, HistogramRow, fold
from glasspane.store.models import MetricBucket, MetricQuery

Key = tuple[int, str | None]


@dataclass(frozen=True, slots=True)
class MetricWhere:
    """A metric query's filter and group expression, with their parameters, and
    the parameters of the two queries every backend writes around them (the
    same placeholders in the same order in each dialect)."""

    condition: str
    params: list[Any]
    group: str
    group_params: list[Any]

    def value_params(self, query: MetricQuery) -> list[Any]:
        """Single values: cumulative points up to the window's end (their increments),
        the other points within the window, then the bucket origin and width."""
        w = query.window
        before = [*self.group_params, query.name, w.end, *self.params, w.start]
        within = [*self.group_params, query.name, w.start, w.end, *self.params]
        return [*before, *within, w.start, query.interval]

    def histogram_params(self, query: MetricQuery) -> list[Any]:
        w = query.window
        return [*self.group_params, query.name, w.end, w.start, *self.params]


def series(
    query: MetricQuery,
    value_rows: Sequence[Sequence[Any]],
    histogram_rows: Sequence[Sequence[Any]],
) -> list[MetricBucket]:
    """The buckets of ``query``, ordered by time, then group (``None`` last)."""
    w = query.window
    values = {
        (int(r[0]), r[1]): MetricBucket(w.start + r[0] * query.interval, r[1], *r[2:])
        for r in value_rows
    }
    points = [histogram_row(r) for r in histogram_rows]
    return _merge(query, values, fold(points, w.start, w.end, query.interval))


def histogram_row(r: Sequence[Any]) -> HistogramRow:
    """``(timestamp, group, project_id, service, attributes, start_ts, count, sum, min,
    max, bucket_bounds, bucket_counts, cumulative)``: the four after the group name
    the series; bounds and counts are JSON arrays."""
    return HistogramRow(
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


def _merge(
    query: MetricQuery, values: dict[Key, MetricBucket], histograms: dict[Key, Folded]
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


def _extreme(
    pick: Callable[[list[float]], float], a: float | None, b: float | None
) -> float | None:
    present = [x for x in (a, b) if x is not None]
    return pick(present) if present else None
