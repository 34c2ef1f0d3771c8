"""The performance views in the API's shapes: transactions, services, traces,
series, regressions and user impact (docs/semantics.md)."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict
from typing import Any

from glasspane.errors import ProtocolError
from glasspane.filters import And, Cmp, Filter, all_of, conjuncts, pop_key
from glasspane.query.period import parse_window
from glasspane.query.regressions import Sample, find_regressions
from glasspane.query.search import parse
from glasspane.store.api import AnalyticsReader
from glasspane.store.models import TransactionStats, Window

TRANSACTION_SORTS = (
    "transaction",
    "service",
    "count",
    "p50_ms",
    "p95_ms",
    "failure_rate",
    "throughput_per_min",
    "apdex",
)
SAMPLES_PER_TRANSACTION = 20_000


def window(query: str | None, period: str | None, now: float | None = None) -> Window:
    now = time.time() if now is None else now
    start, end = parse_window(period, now)
    return Window(start, end, parse(query or "", now))


def _minutes(w: Window) -> float:
    return (w.end - w.start) / 60.0


def _sorted(rows: list[dict[str, Any]], sort: str, allowed: tuple[str, ...]) -> list[dict]:
    key = sort.lstrip("-")
    if key not in allowed:
        raise ProtocolError(
            f"sort {sort!r} is not a column; use one of {', '.join(allowed)} "
            "(prefix - for descending)"
        )
    present = [r for r in rows if r[key] is not None]
    missing = [r for r in rows if r[key] is None]
    present.sort(key=lambda r: r[key], reverse=sort.startswith("-"))
    return present + missing


def _transaction_row(stats: TransactionStats, minutes: float) -> dict[str, Any]:
    return {
        "transaction": stats.transaction,
        "service": stats.service,
        "project_id": stats.project_id,
        "count": round(stats.count, 3),
        "samples": stats.samples,
        "p50_ms": round(stats.p50_ms, 3),
        "p95_ms": round(stats.p95_ms, 3),
        "failure_rate": round(stats.failure_rate, 6),
        "throughput_per_min": round(stats.count / minutes, 4),
        "apdex": round(stats.apdex, 4),
    }


def transactions(store: AnalyticsReader, w: Window, sort: str = "-count") -> dict[str, Any]:
    minutes = _minutes(w)
    rows = [_transaction_row(s, minutes) for s in store.transaction_stats(w)]
    return {"transactions": _sorted(rows, sort, TRANSACTION_SORTS)}


def services(store: AnalyticsReader, w: Window, sort: str = "service") -> dict[str, Any]:
    minutes = _minutes(w)
    rows = [
        {
            "service": s.service,
            "count": round(s.count, 3),
            "samples": s.samples,
            "apdex": round(s.apdex, 4),
            "error_rate": round(s.error_rate, 6),
            "p95_ms": round(s.p95_ms, 3),
            "throughput_per_min": round(s.count / minutes, 4),
        }
        for s in store.service_stats(w)
    ]
    allowed = ("service", "count", "apdex", "error_rate", "p95_ms", "throughput_per_min")
    return {"services": _sorted(rows, sort, allowed)}


def traces(
    store: AnalyticsReader, w: Window, sort: str = "-timestamp", limit: int = 50
) -> dict[str, Any]:
    """Recent traces; ``trace.status:ok|error`` in the query filters whole traces."""
    statuses, rest = pop_key(w.filter, "trace.status")
    status = None
    for cmp in statuses:
        if cmp.op != "=" or cmp.value not in ("ok", "error"):
            raise ProtocolError('trace.status takes "ok" or "error", e.g. trace.status:error')
        if status not in (None, cmp.value):
            return {"traces": []}  # ok AND error: nothing can match
        status = cmp.value
    if sort.lstrip("-") not in ("timestamp", "duration", "duration_ms"):
        raise ProtocolError(f"sort {sort!r} is not supported; use [-]timestamp or [-]duration")
    if not 1 <= limit <= 1000:
        raise ProtocolError("limit must be between 1 and 1000")
    rows = store.trace_summaries(Window(w.start, w.end, rest), status, sort, limit)
    return {"traces": [{**asdict(r), "duration_ms": round(r.duration_ms, 3)} for r in rows]}


def series(store: AnalyticsReader, w: Window, interval: float | None) -> dict[str, Any]:
    """Buckets for charts; ``interval`` defaults to a sixtieth of the period."""
    span = w.end - w.start
    interval = interval or span / 60.0
    if interval <= 0 or span / interval > 2000:
        raise ProtocolError("interval must be positive and give at most 2000 buckets")
    points = {p.timestamp: p for p in store.transaction_series(w, interval)}
    out = []
    for i in range(int(-(-span // interval))):
        start = w.start + i * interval
        point = points.get(start)
        out.append(
            {
                "timestamp": start,
                "count": round(point.count, 3) if point else 0,
                "samples": point.samples if point else 0,
                "p50_ms": point.p50_ms if point else None,
                "p95_ms": point.p95_ms if point else None,
                "failure_rate": point.failure_rate if point else None,
                "throughput_per_min": round(point.count / (interval / 60.0), 4) if point else 0,
            }
        )
    return {"interval": interval, "series": out}


def regressions(store: AnalyticsReader, w: Window) -> dict[str, Any]:
    grouped: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for s in store.duration_samples(w, SAMPLES_PER_TRANSACTION):
        grouped[(s.transaction, s.service)].append(Sample(s.timestamp, s.duration_ms, s.failed))
    rows = []
    for (transaction, service), samples in grouped.items():
        for found in find_regressions(samples, w.start, w.end):
            row: dict[str, Any] = {
                "transaction": transaction,
                "service": service,
                "metric": found.metric,
                "change_pct": round(found.change_pct, 1),
                "started_at": found.started_at,
            }
            if found.metric == "p95":
                row.update(before_ms=round(found.before, 3), after_ms=round(found.after, 3))
            else:
                row.update(before=round(found.before, 6), after=round(found.after, 6))
            rows.append(row)
    rows.sort(key=lambda r: -r["change_pct"])
    return {"regressions": rows}


def impact(store: AnalyticsReader, w: Window) -> dict[str, Any]:
    stats = asdict(store.impact(w))
    return {**stats, "transactions": round(stats["transactions"], 3)}


def transaction_filter(w: Window, transaction: str | None) -> Window:
    """The window narrowed to one transaction name (the series endpoint's parameter)."""
    if not transaction:
        return w
    name: Filter = Cmp("transaction", "=", transaction)
    return Window(w.start, w.end, name if w.filter is None else And((name, w.filter)))


def one_transaction(w: Window, name: str, service: str | None) -> Window:
    """The window narrowed to one transaction name, of one service when given."""
    parts: list[Filter] = [Cmp("transaction", "=", name)]
    if service:
        parts.append(Cmp("service", "=", service))
    return Window(w.start, w.end, all_of([*parts, *conjuncts(w.filter)]))


def with_trace_status(w: Window, status: str | None) -> Window:
    """The window narrowed to traces whose status is ``status`` (``ok``, ``error``)."""
    if not status:
        return w
    return Window(w.start, w.end, all_of([*conjuncts(w.filter), Cmp("trace.status", "=", status)]))


def duration_samples_ms(store: AnalyticsReader, w: Window, limit: int) -> list[float]:
    """Durations of matching transactions (at most ``limit`` per transaction), for a histogram."""
    return [s.duration_ms for s in store.duration_samples(w, limit)]


def trend_counts(
    store: AnalyticsReader, w: Window, buckets: int, per_transaction: int
) -> dict[tuple[str, str], tuple[list[float], list[float]]]:
    """Per (transaction, service): transactions and failed ones in each of ``buckets``
    equal slices of the window, from at most ``per_transaction`` samples each (raw
    counts: a sparkline's shape, not its scale)."""
    size = (w.end - w.start) / buckets
    trends: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    for s in store.duration_samples(w, per_transaction):
        counts, failures = trends.setdefault(
            (s.transaction, s.service), ([0.0] * buckets, [0.0] * buckets)
        )
        bucket = min(buckets - 1, max(0, int((s.timestamp - w.start) / size)))
        counts[bucket] += 1
        if s.failed:
            failures[bucket] += 1
    return trends
