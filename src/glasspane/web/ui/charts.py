"""Chart geometry for inline SVG: pure functions from numbers to coordinates.

Templates draw what these return; nothing here knows HTML. Coordinates are in
a chart's own ``viewBox`` units, y growing downwards as in SVG.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from glasspane.query.flamegraph import Cell


@dataclass(frozen=True, slots=True)
class Tick:
    position: float  # x or y in viewBox units
    label: str


@dataclass(frozen=True, slots=True)
class Dot:
    x: float
    y: float
    title: str


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    path: str  # SVG path data; gaps where values are missing
    css: str  # class naming its colour
    #: A marker per value, when asked for (a point between gaps has no line to show).
    dots: tuple[Dot, ...] = ()


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str
    css: str = ""


@dataclass(frozen=True, slots=True)
class Band:
    """A shaded stretch of time across the plot (a rule's firing period)."""

    x: float
    width: float
    title: str


@dataclass(slots=True)
class Chart:
    width: float
    height: float
    plot_left: float
    plot_bottom: float
    lines: list[Line] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    empty: bool = False
    #: The value at the top of the y axis (line charts).
    y_max: float = 1.0
    #: Horizontal lines at a value (a threshold), position = y.
    levels: list[Tick] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    #: Where the time axis starts and ends (line charts): (start, end, x0, x1).
    time_axis: tuple[float, float, float, float] | None = None


def nice_ticks(value: float, count: int = 4) -> list[float]:
    """Axis values from 0 to at least ``value`` in steps of 1, 2 or 5 × 10^k, at most
    ``count`` steps; ``[0, 1]`` when there is nothing to show."""
    if value <= 0 or not math.isfinite(value):
        return [0.0, 1.0]
    power = 10 ** math.floor(math.log10(value / count))
    step = next(m * power for m in (1, 2, 5, 10) if m * power * count >= value * (1 - 1e-9))
    steps = max(1, math.ceil(value / step - 1e-9))
    return [round(i * step, 12) for i in range(steps + 1)]


def _y_ticks(chart: Chart, ticks: list[float], top: float, fmt: Callable[[float], str]) -> None:
    peak = ticks[-1]
    for v in ticks:
        chart.y_ticks.append(Tick(chart.plot_bottom - v / peak * (chart.plot_bottom - top), fmt(v)))


def _path(points: Sequence[tuple[float, float] | None]) -> str:
    """``M x,y L x,y …``, starting a new piece after every missing point.

    A point alone between gaps is a piece of length zero (``l0,0``), which a
    round line cap draws as a dot; a bare ``M`` would draw nothing.
    """
    parts: list[str] = []
    run = 0  # points in the current piece
    for point in points:
        if point is None:
            if run == 1:
                parts.append("l0,0")
            run = 0
            continue
        parts.append(f"{'L' if run else 'M'}{point[0]:.1f},{point[1]:.1f}")
        run += 1
    if run == 1:
        parts.append("l0,0")
    return " ".join(parts)


def sparkline(
    values: Sequence[float | None], width: float = 100, height: float = 24, top: float = 0
) -> str:
    """Path data of a small line over ``values``, scaled to ``max(top, max(values))``."""
    if not values:
        return ""
    peak = max([top, *(v for v in values if v is not None)]) or 1.0
    step = width / max(1, len(values) - 1)
    pad = 1.5
    return _path(
        [
            None if v is None else (i * step, height - pad - (v / peak) * (height - 2 * pad))
            for i, v in enumerate(values)
        ]
    )


def spark_bars(
    values: Sequence[float], width: float = 100, height: float = 24, peak: float | None = None
) -> list[Bar]:
    """One bar per value, scaled to ``peak`` (default the largest); zero bars are left out."""
    top = peak if peak is not None else max(values, default=0)
    if not values or top <= 0:
        return []
    slot = width / len(values)
    bars = []
    for i, value in enumerate(values):
        if value > 0:
            h = max(1.0, value / top * height)
            bars.append(Bar(i * slot + slot * 0.1, height - h, slot * 0.8, h, f"{value:g}"))
    return bars


def _clock(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M")


def time_ticks(start: float, end: float, x0: float, x1: float, count: int = 5) -> list[Tick]:
    """``count`` evenly spaced time labels (``HH:MM`` UTC, or ``MM-DD`` past two days)."""
    from datetime import UTC, datetime

    fmt = "%m-%d %H:%M" if end - start > 2 * 86400 else "%H:%M"
    ticks = []
    for i in range(count):
        ts = start + (end - start) * i / (count - 1)
        label = datetime.fromtimestamp(ts, UTC).strftime(fmt)
        ticks.append(Tick(x0 + (x1 - x0) * i / (count - 1), label))
    return ticks


def line_chart(
    timestamps: Sequence[float],
    series: dict[str, Sequence[float | None]],
    fmt: Callable[[float], str],
    span: tuple[float, float],
    width: float = 400,
    height: float = 150,
    floor_top: float = 0,
    dots: bool = False,
) -> Chart:
    """Lines over time sharing one y axis from 0; ``span`` is the period (start, end);
    with ``dots``, a marker on each value, titled with its time and value."""
    left, right, top, bottom = 46.0, width - 8, 8.0, height - 18
    chart = Chart(width, height, left, bottom)
    values = [v for vs in series.values() for v in vs if v is not None]
    chart.empty = not values
    ticks = nice_ticks(max([floor_top, *values]))
    peak = ticks[-1]
    chart.y_max = peak
    _y_ticks(chart, ticks, top, fmt)
    start, end = span
    length = max(end - start, 1e-9)
    chart.x_ticks = time_ticks(start, end, left, right)
    chart.time_axis = (start, end, left, right)
    for index, (name, vs) in enumerate(series.items()):
        points = [
            None
            if v is None
            else (
                left + (ts - start) / length * (right - left),
                bottom - v / peak * (bottom - top),
            )
            for ts, v in zip(timestamps, vs, strict=True)
        ]
        marks = (
            tuple(
                Dot(p[0], p[1], f"{_clock(ts)}: {fmt(v)}")
                for p, ts, v in zip(points, timestamps, vs, strict=True)
                if p is not None and v is not None
            )
            if dots
            else ()
        )
        chart.lines.append(Line(name, _path(points), f"series-{index}", marks))
    return chart


def add_level(chart: Chart, value: float, label: str) -> None:
    """A horizontal line at ``value`` on a line chart (drawn only inside the y axis)."""
    top = chart.y_ticks[-1].position if chart.y_ticks else 8.0
    if 0 <= value <= chart.y_max:
        y = chart.plot_bottom - value / chart.y_max * (chart.plot_bottom - top)
        chart.levels.append(Tick(y, label))


def add_band(chart: Chart, start: float, end: float, title: str) -> None:
    """Shade the time from ``start`` to ``end`` (clipped to the chart's time axis)."""
    if chart.time_axis is None:
        return
    t0, t1, x0, x1 = chart.time_axis
    lo, hi = max(start, t0), min(end, t1)
    if hi <= lo:
        return
    scale = (x1 - x0) / max(t1 - t0, 1e-9)
    chart.bands.append(Band(x0 + (lo - t0) * scale, max(1.0, (hi - lo) * scale), title))


def histogram(
    values: Sequence[float],
    fmt: Callable[[float], str],
    bins: int = 24,
    width: float = 400,
    height: float = 150,
) -> Chart:
    """A histogram of ``values`` (e.g. durations) over ``bins`` equal-width buckets from 0.

    The top bucket ends at the 99th percentile so that one outlier does not squash
    the rest; what lies above it is counted in the last bar.
    """
    left, right, top, bottom = 46.0, width - 8, 8.0, height - 18
    chart = Chart(width, height, left, bottom, empty=not values)
    if not values:
        _y_ticks(chart, nice_ticks(0), top, lambda v: f"{v:g}")
        return chart
    ordered = sorted(values)
    limit = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] or ordered[-1] or 1.0
    size = limit / bins
    counts = [0] * bins
    for v in ordered:
        counts[min(bins - 1, int(v / size))] += 1
    ticks = nice_ticks(max(counts))
    peak = ticks[-1]
    _y_ticks(chart, ticks, top, lambda v: f"{v:g}")
    slot = (right - left) / bins
    for i, count in enumerate(counts):
        lo, hi = i * size, (i + 1) * size
        upper = fmt(hi) if i < bins - 1 else "∞"
        if count:
            h = count / peak * (bottom - top)
            title = f"{fmt(lo)} – {upper}: {count}"
            chart.bars.append(Bar(left + i * slot + 0.5, bottom - h, slot - 1, h, title))
    chart.x_ticks = [Tick(left + (right - left) * i / 4, fmt(limit * i / 4)) for i in range(5)]
    return chart


def bar_chart(
    timestamps: Sequence[float],
    values: Sequence[float],
    span: tuple[float, float],
    interval: float,
    width: float = 900,
    height: float = 130,
) -> Chart:
    """Counts per time bucket as bars (issue events over time)."""
    left, right, top, bottom = 40.0, width - 8, 8.0, height - 18
    chart = Chart(width, height, left, bottom, empty=not any(values))
    start, end = span
    length = max(end - start, 1e-9)
    ticks = nice_ticks(max(values, default=0))
    peak = ticks[-1]
    _y_ticks(chart, ticks, top, lambda v: f"{v:g}")
    slot = (right - left) * interval / length
    for ts, v in zip(timestamps, values, strict=True):
        if v:
            h = v / peak * (bottom - top)
            x = left + (ts - start) / length * (right - left)
            chart.bars.append(Bar(x + 0.5, bottom - h, max(1.0, slot - 1), h, f"{v:g}"))
    chart.x_ticks = time_ticks(start, end, left, right)
    return chart


@dataclass(frozen=True, slots=True)
class FlameRect:
    x: float
    y: float
    width: float
    label: str  # the name cut to fit the rectangle ("" when nothing fits)
    title: str
    css: str
    name: str
    share: float


FLAME_WIDTH = 720.0
FLAME_ROW = 18.0
#: Roughly one character of the flame graph's 11px monospace font, in viewBox units.
FLAME_CHAR = 6.8


def flame_rects(cells: Sequence[Cell], width: float = FLAME_WIDTH) -> tuple[list[FlameRect], float]:
    """Flame graph cells (``query.flamegraph.Cell``) → rectangles and the height."""
    rects = []
    depth = 0
    for c in cells:
        depth = max(depth, c.depth)
        w = c.share * width
        fits = int((w - 6) / FLAME_CHAR)
        label = c.name if len(c.name) <= fits else (c.name[: fits - 1] + "…" if fits > 2 else "")
        where = f"{c.file}:{c.line}" if c.file and c.line else (c.file or "")
        title = (
            f"{c.name}{' · ' + where if where else ''} · {c.samples} samples "
            f"({c.share * 100:.1f}%), {c.self_samples} self"
        )
        tint = sum(c.name.encode()) % 6 if c.depth else "root"
        rects.append(
            FlameRect(
                c.start * width,
                c.depth * FLAME_ROW,
                w,
                label,
                title,
                f"flame-{tint}",
                c.name,
                c.share,
            )
        )
    return rects, (depth + 1) * FLAME_ROW
