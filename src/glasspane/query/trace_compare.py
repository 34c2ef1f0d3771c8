"""Two traces side by side: their spans aligned by service, op and description.

Each trace is walked as its waterfall draws it (parents before children,
siblings by start time). A span's key is (service, op, description); the nth
span of a key in ``a`` is paired with the nth of that key in ``b``, so two
requests that ran the same code line up even though every id differs. A span
with no partner is "only in a" or "only in b". Rows follow ``a``'s order; a
span only in ``b`` comes right after the row of the ``b`` span before it.

Linear time in the number of spans (dicts keyed by the span key; no pairwise
matching), so a trace of thousands of spans compares as fast as it loads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from glasspane.domain import Project
from glasspane.query.trace_tree import Node, attach, start_key, to_node
from glasspane.query.traces import get_trace
from glasspane.store.api import Store

Key = tuple[str, str, str]


def compare_traces(store: Store, projects: list[Project], a: str, b: str) -> dict[str, Any]:
    """``{a: {...}, b: {...}, diff_ms, rows: [...]}``; :class:`NotFound` (404) naming
    the trace that has not arrived, :class:`ProtocolError` (400) for a malformed id."""
    first = get_trace(store, projects, a)
    second = get_trace(store, projects, b)
    return {
        "a": _summary(first),
        "b": _summary(second),
        "diff_ms": round(second["duration_ms"] - first["duration_ms"], 3),
        "rows": align(first, second),
    }


def _summary(trace: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "trace_id": trace["trace_id"],
        "transaction": trace["transaction"],
        "duration_ms": trace["duration_ms"],
        "status": trace["status"],
        "spans": len(trace["spans"]),
    }


def align(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows of the comparison of trace answers ``a`` and ``b`` (see the module)."""
    walked_a, walked_b = walk(a), walk(b)
    partners: dict[Key, list[int]] = {}
    for index, (key, _, _) in enumerate(walked_a):
        partners.setdefault(key, []).append(index)
    pair_of_b: list[int | None] = []
    used: dict[Key, int] = {}
    for key, _, _ in walked_b:
        n = used.get(key, 0)
        used[key] = n + 1
        candidates = partners.get(key, [])
        pair_of_b.append(candidates[n] if n < len(candidates) else None)
    b_of_a: dict[int, int] = {ia: ib for ib, ia in enumerate(pair_of_b) if ia is not None}
    # b-only spans, grouped under the a row they follow (-1: before every row)
    after: dict[int, list[int]] = {}
    last = -1
    for ib, ia in enumerate(pair_of_b):
        if ia is None:
            after.setdefault(last, []).append(ib)
        else:
            last = ia
    starts = (a.get("start_timestamp"), b.get("start_timestamp"))

    def only_b(ib: int) -> dict[str, Any]:
        return _row(None, walked_b[ib][1:], starts)

    rows = [only_b(j) for j in after.get(-1, [])]
    for ia, (_, span, depth) in enumerate(walked_a):
        partner = b_of_a.get(ia)
        rows.append(_row((span, depth), None if partner is None else walked_b[partner][1:], starts))
        rows.extend(only_b(j) for j in after.get(ia, []))
    return rows


def walk(trace: Mapping[str, Any]) -> list[tuple[Key, Mapping[str, Any], int]]:
    """The trace's spans as its waterfall draws them: (key, span, depth)."""
    nodes = [to_node(s) for s in trace["spans"]]
    attach(nodes, [])
    out: list[tuple[Key, Mapping[str, Any], int]] = []
    stack = [(i, 0) for i in _ordered(nodes, [i for i, n in enumerate(nodes) if n.top_level])]
    stack.reverse()
    while stack:
        index, depth = stack.pop()
        span = nodes[index].span
        out.append((span_key(span), span, depth))
        children = _ordered(nodes, nodes[index].children)
        stack.extend((child, depth + 1) for child in reversed(children))
    return out


def _ordered(nodes: Sequence[Node], indexes: list[int]) -> list[int]:
    return sorted(indexes, key=lambda i: start_key(nodes[i]))


def span_key(span: Mapping[str, Any]) -> Key:
    """What makes two spans of different traces "the same": service, op, description."""
    return (
        str(span.get("service") or ""),
        str(span.get("op") or ""),
        str(span.get("description") or ""),
    )


def _row(
    a: tuple[Mapping[str, Any], int] | None,
    b: tuple[Mapping[str, Any], int] | None,
    starts: tuple[Any, Any],
) -> dict[str, Any]:
    """One row: span ``a`` and its partner ``b`` (either may be missing), each with
    its depth; ``starts`` are the two traces' start times."""
    shown, depth = a or b or ({}, 0)
    side_a = _side(a[0], starts[0]) if a else None
    side_b = _side(b[0], starts[1]) if b else None
    diff = side_b["duration_ms"] - side_a["duration_ms"] if side_a and side_b else None
    return {
        "service": shown.get("service"),
        "op": shown.get("op"),
        "description": shown.get("description"),
        "depth": depth,
        "presence": "both" if side_a and side_b else ("a" if side_a else "b"),
        "a": side_a,
        "b": side_b,
        "diff_ms": None if diff is None else round(diff, 3),
    }


def _side(span: Mapping[str, Any], trace_start: Any) -> dict[str, Any]:
    start = span.get("start_timestamp")
    offset = (start - trace_start) * 1000 if isinstance(start, float | int) else 0.0
    return {
        "span_id": span.get("span_id"),
        "duration_ms": float(span.get("duration_ms") or 0.0),
        "offset_ms": round(offset, 3),
        "status": span.get("status"),
    }
