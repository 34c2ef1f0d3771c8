"""Explore pages: the logs (``/explore/logs``), searched as ``GET /api/v1/logs`` is,
the spans (``/explore/spans``), grouped or listed as ``GET /api/v1/spans``, and
the metrics (``/explore/metrics``), one metric charted as its type fits
(:mod:`glasspane.query.metric_view`) beside the previous period.

The page is server-rendered like every other; its live tail is a small poll in
``glasspane.js`` that fetches this same page again and swaps in its table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse

from glasspane.errors import NotFound, ProtocolError
from glasspane.query import logs, metric_view, metrics, performance, spans
from glasspane.store.models import Window
from glasspane.web.deps import instance_of
from glasspane.web.ui import charts
from glasspane.web.ui.render import duration, number, page, url
from glasspane.web.ui.session import LoggedIn

router = APIRouter(include_in_schema=False)
#: Seconds between two polls of the live tail.
LIVE_TAIL_SECONDS = 5
#: What the span explorer groups by when not asked.
DEFAULT_GROUP_BY = "span.op"
#: The measures the chart over time can draw: ``?chart=`` → (label, field, format).
CHART_MEASURES: dict[str, tuple[str, str, Callable[[float], str]]] = {
    "p95": ("p95", "p95_ms", duration),
    "p50": ("p50", "p50_ms", duration),
    "avg": ("Average", "avg_ms", duration),
    "sum": ("Total time", "sum_ms", duration),
    "count": ("Count", "count", number),
}
#: Groups drawn on the chart: the first rows of the table.
CHART_GROUPS = 5
#: Group lines drawn on the metrics chart (the table lists every group).
METRIC_CHART_GROUPS = 8


@router.get("/explore/logs")
def logs_page(
    request: Request,
    session: LoggedIn,
    query: str | None = None,
    period: str | None = None,
    level: str | None = None,
    limit: int = logs.DEFAULT_LIMIT,
) -> HTMLResponse:
    """The logs matching the search and level, newest first, each linking its trace."""
    instance = instance_of(request)
    w = logs.level_window(query, period, level or None)
    found = logs.list_logs(instance.store, instance.projects(), w, limit)["logs"]
    return page(
        request,
        "logs.html",
        session=session,
        nav="logs",
        logs=found,
        level=level or "",
        levels=logs.LEVELS,
        limit=limit,
        live=request.query_params.get("live") == "1",
        live_seconds=LIVE_TAIL_SECONDS,
    )


@router.get("/explore/spans", response_model=None)
def spans_page(
    request: Request,
    session: LoggedIn,
    query: str | None = None,
    period: str | None = None,
    group_by: str | None = None,
    view: str | None = None,
    sort: str = "-timestamp",
    measure: str = "p95",
) -> HTMLResponse | RedirectResponse:
    """Spans grouped by keys (``span.op`` unless asked), or listed with ``view=spans``.

    An emptied group-by field means the list; it is redirected to ``view=spans``
    so that the period and sort links keep it. Grouped, a chart draws the
    ``measure`` (:data:`CHART_MEASURES`) of the first groups over the period.
    """
    params = dict(request.query_params)
    if "group_by" in params and not params["group_by"].strip():
        del params["group_by"]
        return RedirectResponse(url(request.url.path, **params, view="spans"), status_code=303)
    instance = instance_of(request)
    w = performance.window(query, period)
    listing = view == "spans"
    keys: tuple[str, ...] = ()
    groups: list[dict[str, Any]] = []
    found: list[dict[str, Any]] = []
    chart: charts.Chart | None = None
    chart_measure = measure if measure in CHART_MEASURES else "p95"
    error = ""
    try:
        if listing:
            found = spans.list_spans(instance.store, instance.projects(), w, sort)["spans"]
        else:
            keys = spans.parse_group_by(group_by or DEFAULT_GROUP_BY)
            interval = spans.default_interval(w)
            answer = spans.aggregate(
                instance.store, w, ",".join(keys), None, interval, CHART_GROUPS
            )
            groups = answer["groups"]
            chart = _group_chart(w, keys, answer["series"], chart_measure)
    except ProtocolError as exc:
        error = str(exc)
    for g in groups:
        terms = spans.group_terms(keys, tuple(g[k] for k in keys))
        g["narrowed"] = spans.narrowed(query, terms) if terms is not None else None
    p95 = max((g["p95_ms"] for g in groups), default=None)
    return page(
        request,
        "spans.html",
        session=session,
        status_code=400 if error else 200,
        nav="spans",
        error=error,
        listing=listing,
        group_by=group_by if group_by is not None else DEFAULT_GROUP_BY,
        keys=keys,
        groups=groups,
        chart=chart,
        chart_title=CHART_MEASURES[chart_measure][0],
        measure=chart_measure,
        measures=list(CHART_MEASURES),
        spans=found,
        sort=sort,
        rule_yaml=spans.alert_rule_yaml(query, p95),
    )


def _group_chart(
    w: Window, keys: tuple[str, ...], series: list[dict[str, Any]], measure: str
) -> charts.Chart:
    """One line per group of ``series`` (the ``GET /api/v1/spans/aggregate`` shape),
    named by its values, drawing ``measure``."""
    _, field, fmt = CHART_MEASURES[measure]
    lines: dict[str, Sequence[float | None]] = {}
    stamps: list[float] = []
    for entry in series:
        name = " · ".join("(none)" if entry[k] is None else str(entry[k]) for k in keys)
        stamps = [p["timestamp"] for p in entry["points"]]
        lines[name] = [p[field] for p in entry["points"]]
    return charts.line_chart(stamps, lines, fmt, (w.start, w.end), width=900, height=180)


@router.get("/explore/metrics")
def metrics_page(
    request: Request,
    session: LoggedIn,
    name: str | None = None,
    query: str | None = None,
    period: str | None = None,
    group_by: str | None = None,
) -> HTMLResponse:
    """The metrics of the period (name, type, unit) and the chosen one's chart.

    Without a ``name`` the first metric of the list is shown. A bad search or
    group-by key answers 400 with the reason on the page.
    """
    store = instance_of(request).store
    w = performance.window(query, period)
    error, status = "", 200
    names: list[dict[str, Any]] = []
    view: dict[str, Any] | None = None
    try:
        names = metrics.list_metrics(store, w)["metrics"]
        chosen = name or (names[0]["name"] if names else None)
        if chosen:
            view = metric_view.metric_view(store, chosen, w, group_by or None)
    except ProtocolError as exc:
        error, status = str(exc), 400
    except NotFound as exc:
        error, status = str(exc), 404
    return page(
        request,
        "metrics.html",
        session=session,
        status_code=status,
        nav="metrics",
        error=error,
        names=names,
        name=view["name"] if view else (name or ""),
        group_by=group_by or "",
        view=view,
        chart=_metric_chart(view, w.start, w.end) if view else None,
        sums=_sum_chart(view, w.start, w.end) if view else None,
        fmt=metric_view.format_value,
        labels=metric_view.LABELS,
    )


def _metric_chart(view: dict[str, Any], start: float, end: float) -> charts.Chart:
    """The headline per group (or the type's statistics), and the previous period dashed."""
    headline = view["headline"]
    lines: dict[str, Sequence[float | None]]
    if view["groups"]:
        lines = {
            str(g["value"] if g["value"] is not None else "(none)"): g["line"]
            for g in view["groups"][:CHART_GROUPS]
        }
    elif view["type"] == "counter":
        lines = {metric_view.LABELS[headline]: view["lines"][headline]}
    else:
        lines = {metric_view.LABELS[s]: view["lines"][s] for s in view["statistics"]}
    lines["previous period"] = view["previous"]
    # A counter's axis reads in plain numbers: the title says "per minute".
    unit, stat = view["unit"], "sum" if view["type"] == "counter" else ""
    chart = charts.line_chart(
        view["timestamps"],
        lines,
        lambda v: metric_view.format_value(v, unit, stat),
        (start, end),
        width=900,
        height=200,
    )
    chart.lines[-1] = replace(chart.lines[-1], css="previous")
    return chart


def _sum_chart(view: dict[str, Any], start: float, end: float) -> charts.Chart | None:
    """A counter's sum per interval as bars."""
    if view["type"] != "counter":
        return None
    sums = [v or 0.0 for v in view["lines"]["sum"]]
    return charts.bar_chart(view["timestamps"], sums, (start, end), view["interval"])
