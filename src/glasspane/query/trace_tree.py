"""The trace as a tree: the model both waterfalls (terminal and web page) draw.

Pure: takes the span, error and log dicts of ``GET /api/v1/traces/{trace_id}``
(``query.traces.get_trace``) and links them, so both views nest, order and mark
orphans the same way. The flat span list becomes a tree through
``parent_span_id``; a span whose parent is missing (``orphan: true``, or a
parent id that is not in the list) is top-level and marked orphan; errors and logs
hang under the span they happened in. Both views word an orphan alike
(:func:`orphan_note`): in a trace still arriving its parent is "not arrived
yet", in an older one it is "missing". Missing or malformed fields are blanks, never
raised.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from glasspane.domain import NON_FAILING_STATUSES

#: Contexts the SDKs attach on their own; only the others (e.g. ``blockchain``)
#: are worth showing beside the waterfall.
STANDARD_CONTEXTS = frozenset(
    {"trace", "runtime", "os", "device", "browser", "app", "culture", "cloud_resource"}
)

# Whitespace runs, C0/C1 control characters (ESC included) and bidi/zero-width
# format characters all collapse to one space.
_UNPRINTABLE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]+")


@dataclass(frozen=True, slots=True)
class Axis:
    """The trace's time axis: first span start and total length, in seconds."""

    start: float
    length: float


@dataclass(slots=True)
class Node:
    """One span prepared for drawing; ``children`` are indexes into the node list."""

    span: Mapping[str, Any]
    start: float | None
    end: float | None
    duration_ms: float | None
    top_level: bool
    orphan: bool
    children: list[int] = field(default_factory=list)
    errors: list[Mapping[str, Any]] = field(default_factory=list)
    logs: list[Mapping[str, Any]] = field(default_factory=list)


#: A trace whose last span ended less than this many seconds ago may still be
#: arriving (upstream transactions are sent when they finish).
RECENT_SECONDS = 300.0


def orphan_note(spans: Sequence[Mapping[str, Any]], now: float | None) -> str:
    """How an orphan is labelled: ``parent not arrived yet`` while the trace is recent
    (its last span ended under :data:`RECENT_SECONDS` before ``now``), else
    ``parent missing``; without ``now``, ``parent missing``."""
    ends = [t for t in (finite_number(s.get("timestamp")) for s in spans) if t is not None]
    if now is not None and ends and now - max(ends) < RECENT_SECONDS:
        return "parent not arrived yet"
    return "parent missing"


def to_node(span: Mapping[str, Any]) -> Node:
    """Resolve a span's start, end and duration, filling each from the others."""
    start = finite_number(span.get("start_timestamp"))
    end = finite_number(span.get("timestamp"))
    duration_ms = finite_number(span.get("duration_ms"))
    if start is None and end is not None and duration_ms is not None:
        start = end - duration_ms / 1000
    if start is not None and (end is None or end < start):
        end = start + max(duration_ms or 0.0, 0.0) / 1000
    if duration_ms is None and start is not None and end is not None:
        duration_ms = (end - start) * 1000
    return Node(span, start, end, duration_ms, top_level=True, orphan=False)


def attach(nodes: list[Node], errors: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Link children to parents and errors to spans; return errors with no span.

    With duplicate span ids the first span owns the id, so nothing is drawn twice.
    """
    owner: dict[str, int] = {}
    for index, node in enumerate(nodes):
        owner.setdefault(one_line(node.span.get("span_id")), index)
    owner.pop("", None)
    for index, node in enumerate(nodes):
        parent = owner.get(one_line(node.span.get("parent_span_id")))
        has_parent_id = bool(one_line(node.span.get("parent_span_id")))
        if node.span.get("orphan") is True or (has_parent_id and parent is None):
            node.orphan = True
        elif parent == index:
            node.orphan = True  # its own parent: broken data, shown as an orphan
        elif parent is not None:
            node.top_level = False
            nodes[parent].children.append(index)
    unattached: list[Mapping[str, Any]] = []
    for error in errors:
        owner_index = owner.get(one_line(error.get("span_id")))
        if owner_index is None:
            unattached.append(error)
        else:
            nodes[owner_index].errors.append(error)
    return unattached


def attach_logs(nodes: list[Node], logs: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Hang each log under the span it was written in; return the logs with no such span.

    Logs keep their order (the API gives them oldest first); a duplicated span id
    belongs to its first span, as in :func:`attach`.
    """
    owner: dict[str, int] = {}
    for index, node in enumerate(nodes):
        owner.setdefault(one_line(node.span.get("span_id")), index)
    owner.pop("", None)
    unattached: list[Mapping[str, Any]] = []
    for log in logs:
        owner_index = owner.get(one_line(log.get("span_id")))
        if owner_index is None:
            unattached.append(log)
        else:
            nodes[owner_index].logs.append(log)
    return unattached


def time_axis(nodes: Sequence[Node]) -> Axis:
    """The time axis from the earliest span start to the latest span end."""
    starts = [n.start for n in nodes if n.start is not None]
    ends = [n.end for n in nodes if n.end is not None]
    if not starts:
        return Axis(0.0, 0.0)
    return Axis(min(starts), max(ends) - min(starts))


def start_key(node: Node) -> tuple[bool, float]:
    """Sort key: by start time, spans without one last (``sorted`` keeps input order)."""
    return (node.start is None, node.start if node.start is not None else 0.0)


def format_duration(ms: object) -> str:
    """Format milliseconds for people: ``45ms``, ``1.2s``, ``2m03s``, ``1h05m``.

    Missing, zero, negative or non-numeric values give ``0ms``; a positive value
    under one millisecond gives ``<1ms``.
    """
    value = finite_number(ms)
    if value is None or value <= 0:
        return "0ms"
    if value < 1:
        return "<1ms"
    if round(value) < 1000:
        return f"{round(value)}ms"
    if round(value / 1000, 1) < 60:
        return f"{value / 1000:.1f}s"
    seconds = round(value / 1000)
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    minutes = round(value / 60_000)
    return f"{minutes // 60}h{minutes % 60:02d}m"


def is_failure(status: object) -> bool:
    """True when a span status counts as failed: anything but ok, cancelled, unknown.

    A missing status is not a failure: the SDK reported nothing wrong.
    """
    if status is None or status == "":
        return False
    return str(status).lower() not in NON_FAILING_STATUSES


def span_label(span: Mapping[str, Any]) -> str:
    """``service: op description`` with empty parts dropped, on one line.

    For a segment the description falls back to its transaction name, and an op
    that says nothing (empty or ``default``) is dropped, giving ``service: transaction``.
    """
    service = one_line(span.get("service")) or one_line(span.get("project"))
    op = one_line(span.get("op"))
    description = one_line(span.get("description"))
    if span.get("is_transaction"):
        description = description or one_line(span.get("transaction"))
        op = "" if op == "default" else op
    if op == description:
        op = ""
    name = " ".join(part for part in (op, description) if part)
    if service and name:
        return f"{service}: {name}"
    return service or name or f"span {one_line(span.get('span_id')) or '?'}"


def one_line(value: object) -> str:
    """One printable line: ``None`` is empty, controls and whitespace runs are one space.

    So a hostile span description cannot move a terminal's cursor or clear its screen.
    """
    if value is None:
        return ""
    return _UNPRINTABLE.sub(" ", str(value)).strip()


def finite_number(value: object) -> float | None:
    """A finite float, or ``None`` for anything else (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def critical_path(nodes: Sequence[Node]) -> set[int]:
    """Indexes of the spans that determined the trace's duration.

    Starts at the top-level span that ended last and walks down: at each span,
    the child that finished last (no later than the parent's end) joins the
    path, repeatedly. Each node is visited at most once, so linear time.
    Nodes must already be linked by ``attach``; spans without an end are skipped.
    """
    path: set[int] = set()
    ended = [i for i, n in enumerate(nodes) if n.top_level and n.end is not None]
    if not ended:
        return path
    current: int | None = max(ended, key=lambda i: nodes[i].end or 0.0)
    while current is not None and current not in path:
        path.add(current)
        limit = nodes[current].end
        best: int | None = None
        for child in nodes[current].children:
            end = nodes[child].end
            if end is None or (limit is not None and end > limit):
                continue
            if best is None or end > (nodes[best].end or 0.0):
                best = child
        current = best
    return path
