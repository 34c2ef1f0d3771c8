"""The trace page's model: waterfall rows and the automatic summary.

Pure: takes the dict of ``GET /api/v1/traces/{trace_id}`` (``query.traces.get_trace``)
and returns what the template draws. The tree is the one the terminal
waterfall draws (``query.trace_tree``), so both views nest, order and mark
orphans the same way: a span whose parent never arrived, or one caught in a
parent cycle, is a top-level row marked "parent not arrived yet" (a recent
trace) or "parent missing"; errors and logs hang under their span. Rows on
the critical path (the API's ``critical`` flag) are marked for the bars.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from glasspane.query.trace_tree import (
    STANDARD_CONTEXTS,
    Node,
    attach,
    attach_logs,
    format_duration,
    is_failure,
    orphan_note,
    span_label,
    start_key,
    time_axis,
    to_node,
)

#: Distinct service colours (``svc-0`` … in the stylesheet), reused in turn.
SERVICE_COLOURS = 10
MIN_BAR_PCT = 0.15


@dataclass(slots=True)
class Row:
    """One span row of the waterfall, in display order."""

    span: Mapping[str, Any]
    span_id: str
    depth: int
    service: str
    name: str  # "op description" after the service
    colour: int
    left_pct: float
    width_pct: float
    duration: str
    failed: bool
    orphan: bool
    children: int
    critical: bool  # on the chain that determined the trace's duration
    errors: list[Mapping[str, Any]] = field(default_factory=list)
    logs: list[Mapping[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class ServiceStep:
    """A service in the summary. ``state``: ``ok``; ``failed`` (an error or a failed
    span of its own); ``propagated`` (its spans failed only because a call into
    another service failed below them)."""

    service: str
    colour: int
    state: str
    duration: str

    @property
    def failed(self) -> bool:
        return self.state == "failed"


@dataclass(slots=True)
class Culprit:
    """The step that explains the trace: the failing one, else the slowest."""

    kind: str  # "failed" or "slowest"
    row: Row
    error: Mapping[str, Any] | None
    contexts: dict[str, Mapping[str, Any]]


@dataclass(slots=True)
class TraceView:
    rows: list[Row]
    steps: list[ServiceStep]
    culprit: Culprit | None
    unattached: list[Mapping[str, Any]]
    ticks: list[str]
    selected: str | None
    orphan_note: str  # what an orphan row says: "parent not arrived yet" / "parent missing"
    unattached_logs: list[Mapping[str, Any]] = field(default_factory=list)


def build(
    trace: Mapping[str, Any], selected: str | None = None, now: float | None = None
) -> TraceView:
    """Rows depth-first (children by start time), the per-service summary, the culprit.

    ``now`` (epoch seconds) tells a recent trace from an old one for the orphans.
    """
    spans = [s for s in trace.get("spans") or [] if isinstance(s, Mapping)]
    errors = [e for e in trace.get("errors") or [] if isinstance(e, Mapping)]
    nodes = [to_node(span) for span in spans]
    unattached = attach(nodes, errors)
    logs = [g for g in trace.get("logs") or [] if isinstance(g, Mapping)]
    stray_logs = attach_logs(nodes, logs)
    colours = _colours(trace, spans)
    rows = list(_rows(nodes, colours))
    culprit = _culprit(rows, errors)
    ids = {r.span_id for r in rows}
    if selected not in ids:
        selected = culprit.row.span_id if culprit else (rows[0].span_id if rows else None)
    length = time_axis(nodes).length * 1000
    ticks = [format_duration(length * i / 4) for i in range(5)]
    steps = _steps(trace, rows, errors, colours)
    note = orphan_note(spans, now)
    return TraceView(rows, steps, culprit, unattached, ticks, selected, note, stray_logs)


def _colours(trace: Mapping[str, Any], spans: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    order = [str(s) for s in trace.get("services") or []]
    order += [str(s.get("service")) for s in spans if str(s.get("service")) not in order]
    return {name: i % SERVICE_COLOURS for i, name in enumerate(dict.fromkeys(order))}


def _rows(nodes: list[Node], colours: dict[str, int]) -> Sequence[Row]:
    """Depth-first without recursion (deep chains), every span exactly once."""
    axis = time_axis(nodes)
    roots = sorted(
        (i for i, n in enumerate(nodes) if n.top_level), key=lambda i: start_key(nodes[i])
    )
    visited: set[int] = set()
    out: list[Row] = []
    # One lazy pass over all spans finds those no root reached (parent cycles).
    leftovers = (i for i in range(len(nodes)) if i not in visited)
    while roots:
        stack = [(i, 0) for i in reversed(roots)]
        while stack:
            index, depth = stack.pop()
            if index in visited:
                continue
            visited.add(index)
            node = nodes[index]
            out.append(_row(node, depth, axis.start, axis.length, colours))
            children = sorted(node.children, key=lambda i: start_key(nodes[i]))
            stack.extend((child, depth + 1) for child in reversed(children))
        left = next(leftovers, None)
        roots = [] if left is None else [left]
        if left is not None:
            nodes[left].orphan = True
    return out


def _row(node: Node, depth: int, start: float, length: float, colours: dict[str, int]) -> Row:
    span = node.span
    service = str(span.get("service") or span.get("project") or "")
    label = span_label(span)
    name = label[len(service) + 2 :] if service and label.startswith(service + ": ") else label
    if node.start is None or node.end is None or length <= 0:
        left, width = 0.0, 100.0 if length <= 0 and node.start is not None else 0.0
    else:
        left = (node.start - start) / length * 100
        width = (node.end - node.start) / length * 100
    return Row(
        span=span,
        span_id=str(span.get("span_id") or ""),
        depth=depth,
        service=service,
        name=name,
        colour=colours.get(str(span.get("service")), 0),
        left_pct=round(min(max(left, 0.0), 100.0 - MIN_BAR_PCT), 3),
        width_pct=round(max(width, MIN_BAR_PCT), 3),
        duration=format_duration(node.duration_ms),
        failed=is_failure(span.get("status")),
        orphan=node.orphan,
        children=len(node.children),
        critical=span.get("critical") is True,
        errors=list(node.errors),
        logs=list(node.logs),
    )


def _steps(
    trace: Mapping[str, Any],
    rows: Sequence[Row],
    errors: Sequence[Mapping[str, Any]],
    colours: dict[str, int],
) -> list[ServiceStep]:
    """Each service with its state and its time (its transactions' durations added up)."""
    service_of_span = {r.span_id: r.service for r in rows}
    failed = {service_of_span.get(str(e.get("span_id")), str(e.get("project"))) for e in errors}
    inherited = _inherited_failures(rows)
    failed |= {r.service for r in rows if r.failed and r.span_id not in inherited}
    propagated = {r.service for r in rows if r.failed} - failed
    steps = []
    for service in colours:
        mine = [r for r in rows if r.service == service]
        segments = [r for r in mine if r.span.get("is_transaction")] or mine
        total = sum(float(r.span.get("duration_ms") or 0) for r in segments)
        state = "failed" if service in failed else "propagated" if service in propagated else "ok"
        if mine or state != "ok":
            steps.append(ServiceStep(service, colours[service], state, format_duration(total)))
    return steps


def _inherited_failures(rows: Sequence[Row]) -> set[str]:
    """Failed spans with a failed span of another service below them: the caller's
    failure is the callee's, passed up (a 504 from downstream fails the HTTP span)."""
    ancestors: list[Row] = []  # of the current row: rows come depth-first
    inherited: set[str] = set()
    for row in rows:
        del ancestors[row.depth :]
        if row.failed:
            inherited.update(a.span_id for a in ancestors if a.failed and a.service != row.service)
        ancestors.append(row)
    return inherited


def _culprit(rows: Sequence[Row], errors: Sequence[Mapping[str, Any]]) -> Culprit | None:
    """The span of the first error; else the deepest failed span; else the slowest leaf."""
    by_id = {r.span_id: r for r in rows}
    for error in sorted(errors, key=lambda e: float(e.get("timestamp") or 0)):
        row = by_id.get(str(error.get("span_id")))
        if row is not None:
            return Culprit("failed", row, error, custom_contexts(error))
    failed = [r for r in rows if r.failed]
    if failed:
        row = max(failed, key=lambda r: (r.depth, not r.span.get("is_transaction")))
        return Culprit(
            "failed",
            row,
            errors[0] if errors else None,
            custom_contexts(errors[0]) if errors else {},
        )
    leaves = [r for r in rows if not r.children] or list(rows)
    if not leaves:
        return None
    row = max(leaves, key=lambda r: float(r.span.get("duration_ms") or 0))
    return Culprit("slowest", row, None, {})


def custom_contexts(holder: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The app's own contexts (``blockchain`` …), without those every SDK sends."""
    contexts = holder.get("contexts")
    if not isinstance(contexts, Mapping):
        return {}
    return {
        str(name): {k: v for k, v in value.items() if not (k == "type" and v == name)}
        for name, value in contexts.items()
        if str(name).lower() not in STANDARD_CONTEXTS and isinstance(value, Mapping)
    }
