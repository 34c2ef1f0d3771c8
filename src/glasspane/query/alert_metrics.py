"""What alert rules measure, read through the query layer as every other view is.

A rule's window is its filters (``service``, ``transaction``, ``query``) over
the last ``window`` seconds. :func:`rule_values` answers every metric a rule
names from the same reads as the API's transactions, impact and issues, and
``None`` when no transaction started in the window (the rule keeps its state).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol

from glasspane.filters import Cmp, Filter, all_of
from glasspane.query.search import parse
from glasspane.store.api import AnalyticsReader, IssueStore
from glasspane.store.models import Window

#: Metrics read from the window's transactions; a rule with one of them and no
#: transaction in the window has no value.
TRANSACTION_METRICS = frozenset({"error_rate", "failure_rate", "p50", "p95", "throughput", "count"})


class AlertReads(AnalyticsReader, IssueStore, Protocol):
    """The reads a rule's metrics need: transactions, impact and issues."""


#: New issues considered by ``issue_events`` without an issue id.
NEW_ISSUES_SCANNED = 1000


def rule_window(filters: Mapping[str, str], start: float, end: float) -> Window:
    """[start, end) narrowed by a rule's ``service``, ``transaction`` and ``query``."""
    parts: list[Filter] = [
        Cmp(key, "=", value) for key, value in filters.items() if key in ("service", "transaction")
    ]
    if "query" in filters:
        parsed = parse(filters["query"], end)
        if parsed is not None:
            parts.append(parsed)
    return Window(start, end, all_of(parts))


def rule_values(
    store: AlertReads, window: Window, metrics: Collection[str], issue: int | None = None
) -> dict[str, float] | None:
    """Each of ``metrics`` over the window; ``None`` when a transaction metric has no data.

    ``issue_events`` counts the events of ``issue`` in the window, or without an
    issue id the events of issues first seen in it (new issues).
    """
    values: dict[str, float] = {}
    if TRANSACTION_METRICS.intersection(metrics):
        totals = store.window_totals(window)
        if not totals.samples:
            return None
        minutes = (window.end - window.start) / 60
        values.update(
            error_rate=totals.error_rate or 0.0,
            failure_rate=totals.failure_rate or 0.0,
            p50=totals.p50_ms or 0.0,
            p95=totals.p95_ms or 0.0,
            throughput=totals.count / minutes,
            count=totals.count,
        )
    if "affected_users" in metrics:
        values["affected_users"] = float(affected_users(store, window))
    if "issue_events" in metrics:
        values["issue_events"] = float(issue_events(store, window, issue))
    return values


def affected_users(store: AnalyticsReader, window: Window) -> int:
    """Distinct identities with a failing transaction or an error in the window."""
    return store.impact(window).users


def issue_events(store: IssueStore, window: Window, issue: int | None) -> int:
    if issue is not None:
        found = store.get_issue(issue, window)
        return found.count if found else 0
    listed = store.list_issues(window, "-count", NEW_ISSUES_SCANNED)
    return sum(i.count for i in listed if i.first_seen >= window.start)


def recent_errors(store: IssueStore, window: Window, limit: int = 5) -> list[dict[str, Any]]:
    """The issues with most events in the window, for a notification's details."""
    return [
        {"issue_id": i.id, "title": i.title, "count": i.count}
        for i in store.list_issues(window, "-count", limit)
        if i.count
    ]


#: Failing traces read to rank the affected users (the newest ones).
USERS_SCANNED = 1000


def search_text(filters: Mapping[str, str]) -> str:
    """A rule's filters as the search syntax the pages take (``service:api query``)."""
    parts = []
    for key, value in filters.items():
        if key == "query":
            parts.append(value)
            continue
        plain = value.replace('"', "")
        parts.append(f'{key}:"{plain}"' if any(c.isspace() for c in plain) else f"{key}:{plain}")
    return " ".join(parts)


def top_users(store: AnalyticsReader, window: Window, limit: int = 5) -> list[dict[str, Any]]:
    """The users with most failing traces in the window (of the newest ``USERS_SCANNED``)."""
    counts: dict[str, int] = {}
    for trace in store.trace_summaries(window, "error", "-timestamp", USERS_SCANNED):
        if trace.user:
            counts[trace.user] = counts.get(trace.user, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [{"user": user, "failed_traces": count} for user, count in ranked]


def metric_series(
    store: AlertReads,
    filters: Mapping[str, str],
    metric: str,
    issue: int | None,
    span: tuple[float, float],
    buckets: int,
) -> list[dict[str, Any]]:
    """``metric`` in each of ``buckets`` equal slices of ``span``, as a rule measures it
    over its window (``value`` ``None`` where a transaction metric has no data)."""
    start, end = span
    step = (end - start) / buckets
    points = []
    for index in range(buckets):
        lo = start + index * step
        window = rule_window(filters, lo, lo + step)
        values = rule_values(store, window, {metric}, issue)
        points.append({"timestamp": lo, "value": None if values is None else values[metric]})
    return points
