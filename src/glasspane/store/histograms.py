"""Histogram points → bucketed aggregates, for every store backend.

OTLP histogram points are few (one per series per export interval), so the
backends fetch them and fold them here rather than in SQL. Two steps, both pure:

1. :func:`increments`: a cumulative point holds everything since its series
   started; what it adds is its difference from the series' previous point.
   A point whose count went down (the process restarted) or whose bounds
   changed starts over. Extremes (min/max) of an increment are unknown unless
   it is the series' first point, so they are dropped.
2. :func:`fold`: increments are summed per time bucket and group; percentiles
   interpolate linearly within the bucket that holds the rank (the only thing a
   histogram allows), clamped to the known extremes.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class HistogramRow:
    timestamp: float
    group: str | None
    series: Hashable  # what names the series: project, service, attributes, start
    count: int
    total: float
    min: float | None
    max: float | None
    bounds: tuple[float, ...]
    counts: tuple[int, ...]
    cumulative: bool


@dataclass(slots=True)
class Folded:
    count: int = 0
    total: float = 0.0
    min: float | None = None
    max: float | None = None
    bounds: tuple[float, ...] | None = None
    counts: list[int] | None = None
    mixed_bounds: bool = False

    def add(self, row: HistogramRow) -> None:
        self.count += row.count
        self.total += row.total
        if row.min is not None:
            self.min = row.min if self.min is None else min(self.min, row.min)
        if row.max is not None:
            self.max = row.max if self.max is None else max(self.max, row.max)
        if self.counts is None:
            self.bounds, self.counts = row.bounds, list(row.counts)
        elif row.bounds == self.bounds and len(row.counts) == len(self.counts):
            self.counts = [a + b for a, b in zip(self.counts, row.counts, strict=True)]
        else:
            self.mixed_bounds = True

    def quantile(self, q: float) -> float | None:
        if self.mixed_bounds or self.bounds is None or self.counts is None:
            return None
        return quantile(self.bounds, self.counts, q, self.min, self.max)


def increments(rows: Iterable[HistogramRow]) -> list[HistogramRow]:
    """Each row as what it adds; ``rows`` must be ordered by time."""
    last: dict[Hashable, HistogramRow] = {}
    out = []
    for row in rows:
        if not row.cumulative:
            out.append(row)
            continue
        previous = last.get(row.series)
        last[row.series] = row
        if previous is None or row.count < previous.count or row.bounds != previous.bounds:
            out.append(row)
            continue
        counts = tuple(a - b for a, b in zip(row.counts, previous.counts, strict=False))
        if any(c < 0 for c in counts) or len(row.counts) != len(previous.counts):
            out.append(row)
            continue
        out.append(
            replace(
                row,
                count=row.count - previous.count,
                total=row.total - previous.total,
                min=None,
                max=None,
                counts=counts,
            )
        )
    return out


def fold(
    rows: Iterable[HistogramRow], start: float, end: float, interval: float
) -> dict[tuple[int, str | None], Folded]:
    """Increments in [start, end) summed per (bucket index from ``start``, group)."""
    out: dict[tuple[int, str | None], Folded] = {}
    for row in increments(rows):
        if not start <= row.timestamp < end or row.count <= 0:
            continue
        index = math.floor((row.timestamp - start) / interval)
        out.setdefault((index, row.group), Folded()).add(row)
    return out


def quantile(
    bounds: tuple[float, ...] | list[float],
    counts: list[int] | tuple[int, ...],
    q: float,
    low: float | None = None,
    high: float | None = None,
) -> float | None:
    """The ``q`` quantile of explicit buckets (``counts[i]`` in (bounds[i-1], bounds[i]]).

    The open first and last buckets end at the known minimum and maximum (else
    at their one bound); the result never leaves [low, high] when they are known.
    """
    total = sum(counts)
    if total <= 0 or not bounds:
        return low if low is not None and low == high else None
    rank = q * total
    seen = 0
    for i, count in enumerate(counts):
        if count <= 0 or seen + count < rank:
            seen += count
            continue
        lower = bounds[i - 1] if 0 < i <= len(bounds) else None
        upper = bounds[i] if i < len(bounds) else None
        if lower is None:
            lower = min(low, upper) if low is not None and upper is not None else upper
        if upper is None:
            upper = max(high, lower) if high is not None and lower is not None else lower
        assert lower is not None and upper is not None
        value = lower + (upper - lower) * max(0.0, rank - seen) / count
        if low is not None:
            value = max(value, low)
        if high is not None:
            value = min(value, high)
        return value
    return high
