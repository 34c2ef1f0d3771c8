"""Performance pages: transactions, one transaction's summary, service health,
regressions, user impact. Each calls the query layer in-process, as the JSON
API does, and takes ``period`` and ``query`` from the URL."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from glasspane.query import performance, profiles, transaction_summary, web_vitals
from glasspane.web.deps import instance_of
from glasspane.web.ui import charts
from glasspane.web.ui.render import duration, page, percent
from glasspane.web.ui.session import LoggedIn

router = APIRouter(include_in_schema=False)
TREND_BUCKETS = 24
TREND_SAMPLES = 600  # per transaction: enough for a sparkline's shape
HISTOGRAM_SAMPLES = 5000
#: Service health marks a service degraded below this Apdex or above this error rate.
DEGRADED_APDEX = 0.85
DEGRADED_ERROR_RATE = 0.05


def _toggle(current: str, column: str) -> str:
    """The sort a column header links to: descending first, then ascending."""
    return column if current == f"-{column}" else f"-{column}"


def trends(
    counts: dict[tuple[str, str], tuple[list[float], list[float]]],
) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (transaction, service): a sparkline of requests and of failures over the window."""
    out = {}
    for key, (values, failures) in counts.items():
        peak = max(values)
        out[key] = {
            "line": charts.sparkline(values, 100, 22, peak),
            "fails": charts.spark_bars(failures, 100, 22, peak) if any(failures) else [],
        }
    return out


@router.get("/")
def transactions_page(
    request: Request,
    session: LoggedIn,
    query: str | None = None,
    period: str | None = None,
    sort: str = "-count",
) -> HTMLResponse:
    store = instance_of(request).store
    w = performance.window(query, period)
    rows = performance.transactions(store, w, sort)["transactions"]
    regressed: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in performance.regressions(store, w)["regressions"]:
        regressed[(r["transaction"], r["service"])].append(r)
    worst = max((r["failure_rate"] for r in rows), default=0)
    return page(
        request,
        "transactions.html",
        session=session,
        nav="performance",
        rows=rows,
        sort=sort,
        toggle=_toggle,
        worst=worst,
        regressed=regressed,
        trends=trends(performance.trend_counts(store, w, TREND_BUCKETS, TREND_SAMPLES)),
    )


@router.get("/transaction")
def transaction_page(
    request: Request,
    session: LoggedIn,
    name: str = Query(..., description="Transaction name"),
    service: str | None = None,
    query: str | None = None,
    period: str | None = None,
    status: str | None = Query(None, pattern="^(ok|error)?$"),
    sort: str = "-timestamp",
) -> HTMLResponse:
    instance = instance_of(request)
    store = instance.store
    w = performance.one_transaction(performance.window(query, period), name, service)
    stats = performance.transactions(store, w)["transactions"]
    series = performance.series(store, w, None)
    points = series["series"]
    stamps = [p["timestamp"] for p in points]
    span = (w.start, w.end)
    latency = charts.line_chart(
        stamps,
        {"p50": [p["p50_ms"] for p in points], "p95": [p["p95_ms"] for p in points]},
        duration,
        span,
    )
    failures = charts.line_chart(
        stamps,
        {"failure rate": [p["failure_rate"] for p in points]},
        lambda v: percent(v, 0),
        span,
        floor_top=0.04,
    )
    samples = performance.duration_samples_ms(store, w, HISTOGRAM_SAMPLES)
    found = performance.traces(store, performance.with_trace_status(w, status), sort, 50)
    return page(
        request,
        "transaction.html",
        session=session,
        nav="performance",
        name=name,
        service=service,
        stats=stats[0] if len(stats) == 1 else None,
        services=[s["service"] for s in stats],
        latency=latency,
        failures=failures,
        histogram=charts.histogram(samples, duration),
        samples=len(samples),
        traces=found["traces"],
        status=status,
        sort=sort,
        tags=transaction_summary.transaction_tags(store, w)["tags"],
        suspects=transaction_summary.suspect_spans(store, w, name)["suspect_spans"],
        compare=transaction_summary.slowest_and_typical(store, w, samples),
        profiles=profiles.of_transaction(store, instance.projects(), w, name),
        page_vitals=web_vitals.page_vitals(store, w),
        vitals=VITALS,
    )


#: What the web vitals templates name and rate (``_web_vitals.html``).
VITALS = {
    "order": web_vitals.VITALS,
    "labels": web_vitals.LABELS,
    "titles": web_vitals.TITLES,
    "bands": web_vitals.BANDS,
    "band_labels": {"good": "good", "needs-improvement": "needs improvement", "poor": "poor"},
}


@router.get("/web-vitals")
def web_vitals_page(
    request: Request,
    session: LoggedIn,
    query: str | None = None,
    period: str | None = None,
) -> HTMLResponse:
    """Pages by their web vitals, worst first."""
    w = performance.window(query, period)
    rows = web_vitals.web_vitals(instance_of(request).store, w)["pages"]
    return page(
        request, "web_vitals.html", session=session, nav="web-vitals", rows=rows, vitals=VITALS
    )


@router.get("/services")
def services_page(
    request: Request,
    session: LoggedIn,
    query: str | None = None,
    period: str | None = None,
    sort: str = "service",
) -> HTMLResponse:
    w = performance.window(query, period)
    rows = performance.services(instance_of(request).store, w, sort)["services"]
    return page(
        request,
        "services.html",
        session=session,
        nav="services",
        rows=rows,
        sort=sort,
        toggle=_toggle,
        degraded_apdex=DEGRADED_APDEX,
        degraded_error_rate=DEGRADED_ERROR_RATE,
    )


@router.get("/regressions")
def regressions_page(
    request: Request,
    session: LoggedIn,
    query: str | None = None,
    period: str | None = None,
) -> HTMLResponse:
    w = performance.window(query, period)
    rows = performance.regressions(instance_of(request).store, w)["regressions"]
    return page(request, "regressions.html", session=session, nav="regressions", rows=rows)


@router.get("/impact")
def impact_page(
    request: Request,
    session: LoggedIn,
    query: str | None = None,
    period: str | None = None,
) -> HTMLResponse:
    w = performance.window(query, period)
    impact = performance.impact(instance_of(request).store, w)
    groups = {
        "Country": impact["by_country"],
        "Browser": impact["by_browser"],
        "Operating system": impact["by_os"],
    }
    return page(
        request,
        "impact.html",
        session=session,
        nav="impact",
        impact=impact,
        groups={k: sorted(v.items(), key=lambda kv: -kv[1]) for k, v in groups.items()},
    )


def metric_value(metric: object, value: object) -> str:
    """An alert rule's value as its metric reads: rates as %, latencies as durations."""
    if not isinstance(value, int | float):
        return "–"
    name = str(metric or "")
    if "rate" in name:
        return percent(value)
    if name.startswith("p") or "duration" in name or name.endswith("_ms"):
        return duration(value)
    return f"{value:g}"


@router.get("/alerts")
def alerts_page(request: Request, session: LoggedIn) -> HTMLResponse:
    """Rules, state, since and history; for a firing rule what is behind it; an honest
    empty state when there are none."""
    engine = getattr(instance_of(request), "alerts", None)
    snapshot: dict[str, Any] = engine.snapshot() if engine is not None else {}
    rules = snapshot.get("rules") or []
    if engine is not None:
        rules = [
            engine.detail(r["name"], chart=False) if r["state"] == "firing" else r for r in rules
        ]
    return page(
        request,
        "alerts.html",
        session=session,
        nav="alerts",
        rules=rules,
        rules_path=snapshot.get("path"),
        file_error=snapshot.get("error"),
        metric_value=metric_value,
    )


@router.get("/alerts/{name:path}")
def alert_page(request: Request, name: str, session: LoggedIn) -> HTMLResponse:
    """One rule: its conditions as written, affected users, recent errors, its metric
    over the last hours against the threshold (firing periods shaded), its data."""
    rule = instance_of(request).alerts.detail(name)
    return page(
        request,
        "alert.html",
        session=session,
        nav="alerts",
        rule=rule,
        chart=rule_chart(rule),
        metric_value=metric_value,
    )


def rule_chart(rule: dict[str, Any]) -> charts.Chart:
    """The rule's metric over time with its threshold as a line, firing periods shaded."""
    series = rule["series"]
    points = series["points"]
    metric, threshold = rule["metric"], rule["threshold"]
    chart = charts.line_chart(
        [p["timestamp"] for p in points],
        {str(metric): [p["value"] for p in points]},
        lambda v: metric_value(metric, v),
        (series["start"], series["end"]),
        width=900,
        height=180,
        floor_top=(threshold or 0) * 1.25,
        dots=True,
    )
    if threshold is not None:
        charts.add_level(chart, threshold, f"threshold {rule['threshold_text']}")
    for period in series["firing"]:
        charts.add_band(chart, period["start"], period["end"], "firing")
    return chart
