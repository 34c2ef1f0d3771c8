"""Metric series in the API's shape (``GET /api/v1/metrics``, docs/logs-and-metrics.md).

``series`` covers every bucket of the period, oldest first (empty buckets have
count 0); ``totals`` is the whole period as one bucket. With ``group_by``,
``groups`` holds the same per value of that key (a column such as ``service``
or an attribute such as ``tier``), largest first.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from glasspane.errors import NotFound, ProtocolError
from glasspane.store.api import LogMetricReader
from glasspane.store.models import MetricBucket, MetricQuery, Window

MAX_BUCKETS = 2000
MAX_GROUPS = 50


def point_json(timestamp: float, bucket: MetricBucket | None) -> dict[str, Any]:
    if bucket is None or bucket.count == 0:
        return {
            "timestamp": timestamp,
            "count": 0,
            "sum": 0.0,
            **dict.fromkeys(("avg", "min", "max", "p50", "p95")),
        }
    return {
        "timestamp": timestamp,
        "count": bucket.count,
        "sum": bucket.sum,
        "avg": bucket.sum / bucket.count,
        "min": bucket.min,
        "max": bucket.max,
        "p50": bucket.p50,
        "p95": bucket.p95,
    }


def _series(w: Window, interval: float, buckets: list[MetricBucket]) -> list[dict[str, Any]]:
    by_time = {round((b.timestamp - w.start) / interval): b for b in buckets}
    count = int(-(-(w.end - w.start) // interval))
    return [point_json(w.start + i * interval, by_time.get(i)) for i in range(count)]


def _totals(buckets: list[MetricBucket], w: Window) -> dict[str, Any]:
    bucket = buckets[0] if buckets else None
    total = point_json(w.start, bucket)
    del total["timestamp"]
    return total


def metric_series(
    store: LogMetricReader,
    name: str,
    w: Window,
    interval: float | None,
    group_by: str | None = None,
) -> dict[str, Any]:
    info = store.describe_metric(name)
    if info is None:
        raise NotFound(
            f"No metric named {name!r} has arrived; GET /api/v1/metrics/names lists the "
            "metrics that have"
        )
    span = w.end - w.start
    interval = interval or span / 60.0
    if interval <= 0 or span / interval > MAX_BUCKETS:
        raise ProtocolError(
            f"interval must be positive and give at most {MAX_BUCKETS} buckets "
            f"over the period ({span:g} s)"
        )
    whole = store.metric_series(MetricQuery(name, w, span))
    out: dict[str, Any] = {
        "name": info.name,
        "type": info.type,
        "unit": info.unit,
        "interval": interval,
        "start": w.start,
        "end": w.end,
        "totals": _totals(whole, w),
        "series": _series(w, interval, store.metric_series(MetricQuery(name, w, interval))),
        "group_by": group_by,
        "groups": [],
    }
    if group_by:
        out["groups"] = _groups(store, name, w, interval, group_by)
    return out


def _groups(
    store: LogMetricReader, name: str, w: Window, interval: float, group_by: str
) -> list[dict[str, Any]]:
    totals = store.metric_series(MetricQuery(name, w, w.end - w.start, group_by))
    totals.sort(key=lambda b: (-b.count, b.group is None, b.group or ""))
    totals = totals[:MAX_GROUPS]
    buckets: dict[str | None, list[MetricBucket]] = {b.group: [] for b in totals}
    for bucket in store.metric_series(MetricQuery(name, w, interval, group_by)):
        if bucket.group in buckets:
            buckets[bucket.group].append(bucket)
    return [
        {
            "value": total.group,
            "totals": _totals([total], w),
            "series": _series(w, interval, buckets[total.group]),
        }
        for total in totals
    ]


def list_metrics(store: LogMetricReader, w: Window) -> dict[str, Any]:
    return {"metrics": [asdict(info) for info in store.list_metrics(w)]}
