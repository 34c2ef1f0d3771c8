"""The span explorer in the API's shapes: every span that matches a query (not
only transactions), and spans grouped by keys with weighted counts.

Query terms apply to the span itself: ``span.op:db.query`` lists db spans, not
the transactions that hold one (for those, see the transaction reads and
docs/search.md). Counts and ``sum_ms`` are weighted by 1 / sample rate, as
every count is; percentiles, ``avg_ms`` and the failure rate are per span
received (docs/semantics.md).
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

from glasspane.domain import Project, Span
from glasspane.errors import ProtocolError
from glasspane.query.traces import span_json
from glasspane.store.api import AnalyticsReader
from glasspane.store.models import SpanGroup, SpanGroupPoint, Window

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: More keys than this in one ``group_by`` is a mistake more often than a question.
MAX_GROUP_BY = 5
#: The columns of an aggregate row besides the ``group_by`` keys, in order.
#: How much of an unknown field's name an error message repeats.
MAX_ECHO = 40
#: A key that can stand bare before ``:`` in a search term.
_BARE_KEY = re.compile(r"[\w.-]++")
#: The threshold an alert rule copied from the explorer starts with, when no
#: span matched yet to suggest one.
DEFAULT_ALERT_P95_MS = 1000
AGGREGATE_FIELDS = ("count", "samples", "p50_ms", "p95_ms", "avg_ms", "sum_ms", "failure_rate")
#: Groups with a series over time when not asked otherwise, and at most.
DEFAULT_SERIES_GROUPS = 5
MAX_SERIES_GROUPS = 20
#: More buckets than this in one series is a mistake (as for the transaction series).
MAX_BUCKETS = 2000


def span_row(span: Span, projects: dict[int, Project]) -> dict[str, Any]:
    """One span as ``GET /api/v1/spans`` lists it: the trace's span fields and its trace id."""
    row = {"trace_id": span.trace_id, **span_json(span, projects, known=None)}
    del row["orphan"]  # a list of spans has no tree to be an orphan in
    return row


def list_spans(
    store: AnalyticsReader,
    projects: list[Project],
    w: Window,
    sort: str = "-timestamp",
    limit: int = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """``{spans: [...]}``: the window's matching spans, ``sort``-ed, at most ``limit``."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ProtocolError(f"limit {limit} is out of range: ask for 1 to {MAX_LIMIT} spans")
    by_id = {p.id: p for p in projects}
    return {"spans": [span_row(s, by_id) for s in store.list_spans(w, sort, limit)]}


def parse_group_by(text: str | None) -> tuple[str, ...]:
    """``span.op,db`` → ``("span.op", "db")``; a clear 400 for none or too many."""
    keys = tuple(dict.fromkeys(k.strip() for k in (text or "").split(",") if k.strip()))
    if not keys:
        raise ProtocolError(
            "group_by is required: a comma list of keys such as span.op, span.description, "
            "service, transaction or a tag name"
        )
    if len(keys) > MAX_GROUP_BY:
        raise ProtocolError(f"group_by takes at most {MAX_GROUP_BY} keys, not {len(keys)}")
    return keys


def parse_fields(text: str | None) -> tuple[str, ...]:
    """The aggregate columns asked for (all when ``None`` or empty), in their usual order."""
    asked = {f.strip() for f in (text or "").split(",") if f.strip()}
    if not asked:
        return AGGREGATE_FIELDS
    unknown = sorted(asked - set(AGGREGATE_FIELDS))
    if unknown:
        named = ", ".join(repr(f[:MAX_ECHO]) for f in unknown[:3])
        raise ProtocolError(f"unknown field {named}; choose among {', '.join(AGGREGATE_FIELDS)}")
    return tuple(f for f in AGGREGATE_FIELDS if f in asked)


def _measures(group: SpanGroup) -> dict[str, Any]:
    return {
        "count": round(group.count, 3),
        "samples": group.samples,
        "p50_ms": round(group.p50_ms, 3),
        "p95_ms": round(group.p95_ms, 3),
        "avg_ms": round(group.avg_ms, 3),
        "sum_ms": round(group.sum_ms, 3),
        "failure_rate": round(group.failure_rate, 6),
    }


def _group_row(
    group: SpanGroup, group_by: tuple[str, ...], fields: tuple[str, ...]
) -> dict[str, Any]:
    measures = _measures(group)
    return {**dict(zip(group_by, group.values, strict=True)), **{f: measures[f] for f in fields}}


def aggregate(
    store: AnalyticsReader,
    w: Window,
    group_by: str | None,
    fields: str | None = None,
    interval: float | None = None,
    top: int = DEFAULT_SERIES_GROUPS,
) -> dict[str, Any]:
    """``{groups: [...]}``: one row per value of the ``group_by`` keys, largest count
    first; with an ``interval`` (seconds) also ``interval`` and ``series``, the
    ``top`` groups over time (:func:`group_series`)."""
    keys = parse_group_by(group_by)
    columns = parse_fields(fields)
    if interval is not None:
        check_series(w, interval, top)
    groups = store.span_groups(w, keys)
    answer: dict[str, Any] = {"groups": [_group_row(g, keys, columns) for g in groups]}
    if interval is not None:
        chosen = [g.values for g in groups[:top]]
        points = store.span_group_series(w, keys, chosen, interval) if chosen else []
        series = group_series(w, keys, columns, interval, chosen, points)
        answer |= {"interval": interval, "series": series}
    return answer


def default_interval(w: Window) -> float:
    """A sixtieth of the period, as for the transaction charts."""
    return (w.end - w.start) / 60.0


def check_series(w: Window, interval: float, top: int) -> None:
    """A clear 400 for an interval that is not positive or too fine, or ``top`` out of range."""
    if not (interval > 0 and math.isfinite(interval)) or (w.end - w.start) / interval > MAX_BUCKETS:
        raise ProtocolError(
            f"interval {interval:g} s is out of range: it must be positive and give at most "
            f"{MAX_BUCKETS} buckets over the period "
            f"(at least {(w.end - w.start) / MAX_BUCKETS:g} s)"
        )
    if not 1 <= top <= MAX_SERIES_GROUPS:
        raise ProtocolError(f"top {top} is out of range: ask for 1 to {MAX_SERIES_GROUPS} groups")


def group_series(
    w: Window,
    keys: tuple[str, ...],
    columns: tuple[str, ...],
    interval: float,
    chosen: list[tuple[str | None, ...]],
    points: list[SpanGroupPoint],
) -> list[dict[str, Any]]:
    """One entry per ``chosen`` group, in its order, with its ``keys`` and ``points``:
    every bucket of the period, oldest first, an empty one with ``count`` and
    ``samples`` 0 and the other columns ``null``."""
    by_group: dict[tuple[str | None, ...], dict[float, SpanGroup]] = {v: {} for v in chosen}
    for p in points:
        by_group.setdefault(p.group.values, {})[p.timestamp] = p.group
    buckets = [w.start + i * interval for i in range(int(-(-(w.end - w.start) // interval)))]
    empty = {f: 0 if f in ("count", "samples") else None for f in columns}
    out = []
    for values, found in by_group.items():
        rows = []
        for start in buckets:
            group = found.get(start)
            measures = _measures(group) if group else empty
            rows.append({"timestamp": start, **{f: measures[f] for f in columns}})
        out.append({**dict(zip(keys, values, strict=True)), "points": rows})
    return out


def group_terms(keys: tuple[str, ...], values: tuple[Any, ...]) -> str | None:
    """The search terms that narrow a query to one group, or ``None`` when a key
    cannot be written as a term (a missing value, a key with spaces)."""
    terms = []
    for key, value in zip(keys, values, strict=True):
        if value is None or value == "" or not _BARE_KEY.fullmatch(key):
            return None
        text = str(value).replace("\\", "\\\\").replace('"', '\\"')
        terms.append(f'{key}:"{text}"')
    return " ".join(terms)


def narrowed(query: str | None, terms: str) -> str:
    """``query`` with ``terms`` added (all must hold)."""
    return f"{query.strip()} {terms}" if query and query.strip() else terms


def alert_rule_yaml(query: str | None, p95_ms: float | None) -> str:
    """An alert rules file (README, Alerts) with one rule: p95 over ``query``.

    The threshold starts at the next 10 ms above the p95 seen now (so the rule
    fires when things get slower than they are), else :data:`DEFAULT_ALERT_P95_MS`.
    Built with ``yaml.safe_dump``, so any query is quoted as YAML needs.
    """
    threshold = (int(p95_ms) // 10 + 1) * 10 if p95_ms else DEFAULT_ALERT_P95_MS
    conditions: list[dict[str, str]] = [{"query": query.strip()}] if query and query.strip() else []
    conditions += [{"p95": f"> {threshold}ms"}, {"window": "10 minutes"}]
    name = f"Slow: {query.strip()}" if query and query.strip() else "Slow transactions"
    rule = {"name": name[:120], "conditions": conditions, "actions": [{"slack": "#alerts"}]}
    return yaml.safe_dump({"alerts": [rule]}, sort_keys=False, allow_unicode=True, width=1000)
