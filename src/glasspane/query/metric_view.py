"""What the metrics page draws (``/explore/metrics``): one metric's statistics
fitting its type, per group, and the previous period beside it.

Each type has its statistics (the lines of the chart) and a headline, the
number the summary compares with the previous period of the same length
("now 8.2s · normal 200ms"):

* counter: the sum per interval and the rate per minute; headline the rate;
* distribution: avg, p50 and p95; headline the average;
* gauge (statsd sets arrive as gauges of distinct members): avg, min and max;
  headline the average, and the last bucket's average as "last".
"""

from __future__ import annotations

from typing import Any

from glasspane.query.metrics import metric_series
from glasspane.query.trace_tree import format_duration
from glasspane.store.api import LogMetricReader
from glasspane.store.models import Window

STATISTICS = {
    "counter": ("sum", "rate"),
    "distribution": ("avg", "p50", "p95"),
    "gauge": ("avg", "min", "max"),
}
HEADLINE = {"counter": "rate", "distribution": "avg", "gauge": "avg"}
LABELS = {
    "sum": "sum per interval",
    "rate": "per minute",
    "avg": "avg",
    "p50": "p50",
    "p95": "p95",
    "min": "min",
    "max": "max",
}
#: Unit → (factor to milliseconds) for the units shown as durations.
DURATION_UNITS = {
    "nanosecond": 1e-6,
    "microsecond": 1e-3,
    "millisecond": 1.0,
    "ms": 1.0,
    "second": 1000.0,
    "s": 1000.0,
    "minute": 60_000.0,
    "hour": 3_600_000.0,
}
BYTE_UNITS = {"byte": 1, "kilobyte": 1000, "megabyte": 1000**2, "gigabyte": 1000**3}


def statistic(point: dict[str, Any], stat: str, interval: float) -> float | None:
    """One statistic of a bucket (or of the totals over ``interval`` seconds)."""
    if stat == "rate":
        return float(point["sum"]) / interval * 60.0 if interval > 0 else None
    if stat == "sum":
        return float(point["sum"])
    value = point.get(stat)
    return None if value is None else float(value)


def format_value(value: float | None, unit: str | None, stat: str = "") -> str:
    """``8200`` ms → ``8.2s``; bytes in kB/MB; a rate ``18/min``; else 3 significant digits."""
    if value is None:
        return "–"
    if stat == "rate":
        return f"{_short(value)}/min"
    if stat == "sum" or unit is None or unit in ("", "none"):
        return _short(value)
    if unit in DURATION_UNITS:
        return format_duration(value * DURATION_UNITS[unit]) if value > 0 else "0ms"
    if unit in BYTE_UNITS:
        size = value * BYTE_UNITS[unit]
        for factor, name in ((1000**3, "GB"), (1000**2, "MB"), (1000, "kB")):
            if abs(size) >= factor:
                return f"{_short(size / factor)} {name}"
        return f"{_short(size)} B"
    if unit in ("ratio", "percent"):
        return f"{_short(value * 100 if unit == 'ratio' else value)}%"
    return f"{_short(value)} {unit}"


def _short(value: float) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:.3g}M"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def metric_view(
    store: LogMetricReader, name: str, w: Window, group_by: str | None = None
) -> dict[str, Any]:
    """The metric's lines now, the headline per group, and the previous period's headline.

    The previous period is as long as ``w`` and ends where it starts, bucketed
    the same way, so its points fall on the current axis shifted by one period.
    """
    current = metric_series(store, name, w, None, group_by or None)
    span = w.end - w.start
    interval = float(current["interval"])
    before = Window(w.start - span, w.start, w.filter)
    previous = metric_series(store, name, before, interval)
    kind = current["type"] if current["type"] in STATISTICS else "gauge"
    stats, headline = STATISTICS[kind], HEADLINE[kind]
    points = current["series"]
    last = next((p for p in reversed(points) if p["count"]), None)
    return {
        "name": current["name"],
        "type": current["type"],
        "unit": current["unit"],
        "interval": interval,
        "statistics": list(stats),
        "headline": headline,
        "timestamps": [p["timestamp"] for p in points],
        "lines": {s: [_bucket(p, s, interval) for p in points] for s in stats},
        "previous": [_bucket(p, headline, interval) for p in previous["series"]],
        "now": statistic(current["totals"], headline, span) if current["totals"]["count"] else None,
        "normal": (
            statistic(previous["totals"], headline, span) if previous["totals"]["count"] else None
        ),
        "last": statistic(last, headline, interval) if last else None,
        "count": current["totals"]["count"],
        "group_by": current["group_by"],
        "groups": [
            {
                "value": g["value"],
                "count": g["totals"]["count"],
                "now": statistic(g["totals"], headline, span),
                "line": [_bucket(p, headline, interval) for p in g["series"]],
            }
            for g in current["groups"]
        ],
    }


def _bucket(point: dict[str, Any], stat: str, interval: float) -> float | None:
    """A bucket's statistic; an empty bucket counts 0 for a counter, nothing otherwise."""
    if not point["count"]:
        return 0.0 if stat in ("sum", "rate") else None
    return statistic(point, stat, interval)
