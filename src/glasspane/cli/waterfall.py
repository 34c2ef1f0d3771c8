"""Render a trace as a terminal waterfall (``glasspane trace TRACE_ID``).

Pure: takes the JSON dict of ``GET /api/v1/traces/{trace_id}`` and returns text.
No I/O, no HTTP, no terminal detection; the CLI decides ``width`` and ``color``.

Layout of a span row, every part sized from ``width``::

    <tree><label>…padded  [<bar>] <duration> <✓|✗>

The tree is :mod:`glasspane.query.trace_tree`'s, the one the web page draws. A
span whose parent is missing (``orphan: true``, or a parent id that is not in
the list) is drawn at the top level marked ``(parent not arrived yet)`` when
the trace is recent, else ``(parent missing)``, as is any span caught in a
parent cycle, so every span is shown exactly once. The spans asked for with
``highlight`` (``glasspane trace ID --highlight A,B``: a performance issue's
evidence) end their label with ``◀``, and a last line counts them. The spans of
the critical path (the API's ``critical: true``: the chain that determined the
trace's duration) have ``●`` between label and bar, their bars in bold yellow
when colour is on, and a line under the tree says what the mark means. Error events are
drawn under the span they happened in, others at the end; custom contexts of
errors follow. Logs are drawn under the span they were written in (after its
errors), the others at the end.

Every line is at most ``width`` characters (ANSI colour codes, when asked for, are
not counted). Text from the trace is reduced to one line without control
characters, so a hostile span description cannot move the cursor or clear the screen.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from glasspane.query.trace_tree import (
    STANDARD_CONTEXTS,
    Axis,
    Node,
    attach,
    attach_logs,
    format_duration,
    is_failure,
    one_line,
    orphan_note,
    span_label,
    start_key,
    time_axis,
    to_node,
)

_FULL_BLOCK = "█"
_HALF_BLOCK = "▌"
_OK_MARK = "✓"
_FAIL_MARK = "✗"
_HIGHLIGHT = "◀"
_CRITICAL = "●"
_RED = "\x1b[31m"
_BOLD_YELLOW = "\x1b[1;33m"
_RESET = "\x1b[0m"
_RED_LEVELS = frozenset({"error", "fatal"})
# Fixed characters of a row: " [" (or "●[") + "] " + " " + mark.
_ROW_FIXED = 6


@dataclass(frozen=True, slots=True)
class _Layout:
    """Column widths of a span row; together with ``_ROW_FIXED`` they sum to ``width``."""

    width: int
    label: int
    bar: int
    duration: int


def render_waterfall(
    trace: Mapping[str, Any],
    width: int = 100,
    color: bool = False,
    now: float | None = None,
    highlight: Collection[str] = (),
) -> str:
    """Return the waterfall of ``trace`` as lines joined by ``\\n`` (no trailing newline).

    ``trace`` is the dict of ``GET /api/v1/traces/{trace_id}``; missing or malformed
    fields are drawn as blanks, never raised. Lines never exceed ``width`` visible
    characters (``width`` must be at least 1). ``color`` adds ANSI red to ✗ marks
    and error lines. ``now`` (epoch seconds) tells a recent trace, whose orphans'
    parents may still arrive, from an old one. The spans whose ids are in
    ``highlight`` are marked ``◀``.
    """
    if width < 1:
        raise ValueError(f"width must be at least 1 column, got {width}")
    spans = [s for s in _list(trace.get("spans")) if isinstance(s, Mapping)]
    errors = [e for e in _list(trace.get("errors")) if isinstance(e, Mapping)]
    nodes = [to_node(span) for span in spans]
    unattached = attach(nodes, errors)
    stray_logs = attach_logs(nodes, [g for g in _list(trace.get("logs")) if isinstance(g, Mapping)])
    layout = _layout(width, max([3, *(len(format_duration(n.duration_ms)) for n in nodes)]))
    lines = [_header(trace, nodes, width, color)]
    marker = f" ({orphan_note(spans, now)})"
    marked = frozenset(highlight)
    lines.extend(_tree_lines(nodes, time_axis(nodes), layout, color, marker, marked))
    critical = sum(1 for n in nodes if n.span.get("critical") is True)
    if critical:
        lines.append(_fit(_critical_note(critical, trace.get("duration_ms")), width))
    if not nodes:
        lines.append(_fit("(this trace has no spans)", width))
    if unattached:
        lines.append(_fit("Errors not attached to a span:", width))
        lines.extend(_error_line("  ", error, width, color) for error in unattached)
    if stray_logs:
        lines.append(_fit("Logs not attached to a span:", width))
        lines.extend(_log_line("  ", log, width, color) for log in stray_logs)
    lines.extend(_context_lines(errors, width))
    if marked:
        lines.append(_fit(_highlight_note(nodes, marked), width))
    return "\n".join(lines)


def _critical_note(count: int, duration_ms: object) -> str:
    spans = f"{count} span{'' if count == 1 else 's'}"
    return f"{_CRITICAL} critical path: {spans} that set the trace's {format_duration(duration_ms)}"


def _highlight_note(nodes: Sequence[Node], marked: frozenset[str]) -> str:
    shown = len({one_line(n.span.get("span_id")) for n in nodes} & marked)
    note = f"{_HIGHLIGHT} {shown} highlighted span{'' if shown == 1 else 's'}"
    missing = len(marked) - shown
    return note + (f" ({missing} not in this trace)" if missing else "")


def _layout(width: int, duration_width: int) -> _Layout:
    """Split ``width`` between label and bar: the bar gets two fifths of what is left."""
    free = max(2, width - _ROW_FIXED - duration_width)
    bar = max(1, free * 2 // 5)
    return _Layout(width, free - bar, bar, duration_width)


# --- drawing --------------------------------------------------------------------------


def _header(trace: Mapping[str, Any], nodes: Sequence[Node], width: int, color: bool) -> str:
    """``Trace <id> · <root transaction> · ✗ error · 30.2s · 6 services``.

    When that is too wide the trace id is shortened to 16 characters, then the
    transaction name is cut, so status, duration and service count stay visible.
    """
    failed = _trace_failed(trace, nodes)
    status = f"{_FAIL_MARK} error" if failed else f"{_OK_MARK} ok"
    services = _list(trace.get("services")) or {one_line(n.span.get("service")) for n in nodes}
    count = len([s for s in services if s])
    tail = f" · {status} · {format_duration(trace.get('duration_ms'))} · {count} service"
    tail += "" if count == 1 else "s"
    trace_id = one_line(trace.get("trace_id")) or "?"
    name = _root_name(nodes)
    if len(f"Trace {trace_id} · {name}{tail}") > width:
        trace_id = _fit(trace_id, 17)
    head = f"Trace {trace_id} · "
    line = _fit(head + _fit(name, max(1, width - len(head) - len(tail))) + tail, width)
    return line.replace(status, _red(status), 1) if color and failed else line


def _trace_failed(trace: Mapping[str, Any], nodes: Sequence[Node]) -> bool:
    """The API's ``status``, or when absent: any failed span or any error event."""
    status = trace.get("status")
    if status in ("ok", "error"):
        return bool(status == "error")
    return bool(trace.get("errors")) or any(is_failure(n.span.get("status")) for n in nodes)


def _root_name(nodes: Sequence[Node]) -> str:
    """The transaction name of the earliest top-level span, preferring real roots."""
    ranked = sorted(
        (n for n in nodes if n.top_level),
        key=lambda n: (n.orphan, not n.span.get("is_transaction"), start_key(n)),
    )
    for node in ranked:
        name = one_line(node.span.get("transaction")) or one_line(node.span.get("description"))
        if name:
            return name
    return "(no transaction)"


def _tree_lines(
    nodes: list[Node],
    axis: Axis,
    layout: _Layout,
    color: bool,
    orphan_marker: str,
    marked: frozenset[str] = frozenset(),
) -> Iterator[str]:
    """Rows in depth-first order, children by start time.

    Iterative, not recursive, so a chain of thousands of nested spans does not hit
    Python's recursion limit. Spans left unvisited (parent cycles) become orphans.
    """
    roots = sorted(
        (i for i, n in enumerate(nodes) if n.top_level), key=lambda i: start_key(nodes[i])
    )
    visited: set[int] = set()
    # One lazy pass over all spans finds those no root reached, one at a time.
    leftovers = (i for i in range(len(nodes)) if i not in visited)
    while roots:
        stack: list[tuple[int, str, str]] = [(i, "", "  ") for i in reversed(roots)]
        while stack:
            index, prefix, continuation = stack.pop()
            if index in visited:
                continue
            visited.add(index)
            node = nodes[index]
            highlighted = one_line(node.span.get("span_id")) in marked
            critical = node.span.get("critical") is True
            yield _row(node, prefix, axis, layout, color, orphan_marker, highlighted, critical)
            yield from _error_lines(node, continuation, layout.width, color)
            yield from _log_lines(node, continuation, layout.width, color)
            stack.extend(reversed(list(_descendants(node, nodes, continuation))))
        leftover = next(leftovers, None)
        roots = [] if leftover is None else [leftover]
        for index in roots:
            nodes[index].orphan = True


def _descendants(
    node: Node, nodes: Sequence[Node], continuation: str
) -> Iterator[tuple[int, str, str]]:
    """Stack entries ``(index, row prefix, continuation)`` for a node's children."""
    children = sorted(node.children, key=lambda i: start_key(nodes[i]))
    for position, child in enumerate(children):
        last = position == len(children) - 1
        branch = "└─ " if last else "├─ "
        yield child, continuation + branch, continuation + ("    " if last else "│   ")


def _row(
    node: Node,
    prefix: str,
    axis: Axis,
    layout: _Layout,
    color: bool,
    orphan_marker: str,
    highlighted: bool = False,
    critical: bool = False,
) -> str:
    """One span row: label, bar, duration and ✓/✗, fitted to the layout; ``●``
    before the bar of a span on the critical path."""
    marker = (orphan_marker if node.orphan else "") + (f" {_HIGHLIGHT}" if highlighted else "")
    room = max(0, layout.label - len(marker))
    tree = _clip_prefix(prefix, room // 2)
    label = (_fit(tree + span_label(node.span), room) + marker).ljust(layout.label)
    failed = is_failure(node.span.get("status"))
    mark = _FAIL_MARK if failed else _OK_MARK
    bar = _bar(node, axis, layout.bar)
    duration = format_duration(node.duration_ms).rjust(layout.duration)
    separator = _CRITICAL if critical else " "
    text = f"{label}{separator}[{bar}] {duration} {mark}"
    line = _fit(text, layout.width)
    if color and critical and len(text) <= layout.width:  # uncut: the bar is where it was put
        at = len(label) + 2
        line = line[:at] + _BOLD_YELLOW + bar + _RESET + line[at + len(bar) :]
    if color and failed and line.endswith(_FAIL_MARK):
        line = line[:-1] + _red(_FAIL_MARK)
    return line


def _error_lines(node: Node, continuation: str, width: int, color: bool) -> Iterator[str]:
    """The span's errors, drawn as its first children (before its child spans)."""
    for position, error in enumerate(node.errors):
        last = position == len(node.errors) - 1 and not node.logs and not node.children
        yield _error_line(continuation + ("└─ " if last else "├─ "), error, width, color)


def _log_lines(node: Node, continuation: str, width: int, color: bool) -> Iterator[str]:
    """The span's logs, oldest first, after its errors and before its child spans."""
    for position, log in enumerate(node.logs):
        last = position == len(node.logs) - 1 and not node.children
        yield _log_line(continuation + ("└─ " if last else "├─ "), log, width, color)


def _log_line(prefix: str, log: Mapping[str, Any], width: int, color: bool) -> str:
    """``<prefix>LOG WARN <body>``, fitted to ``width``; error and fatal logs in red."""
    level = one_line(log.get("level")) or "log"
    line = _fit(f"{prefix}LOG {level.upper()} {one_line(log.get('body'))}".rstrip(), width)
    return _red(line) if color and level.lower() in _RED_LEVELS else line


def _bar(node: Node, axis: Axis, cells: int) -> str:
    """The span's bar in ``cells`` columns, placed by start offset, sized by duration.

    Position is in whole cells, length in half cells (█ and a closing ▌), and at
    least one half cell so that instant spans stay visible.
    """
    if node.start is None or node.end is None:
        return " " * cells
    if axis.length <= 0:
        first, halves = 0, 1
    else:
        offset = (node.start - axis.start) / axis.length * cells
        first = min(cells - 1, max(0, math.floor(offset + 1e-9)))
        end_half = round((node.end - axis.start) / axis.length * cells * 2)
        # The start is rounded down to a whole cell; the bar keeps its end there, but
        # grows by at most half a cell, so an instant span stays a single ▌.
        own_halves = round((node.end - node.start) / axis.length * cells * 2) + 1
        halves = min(max(1, min(end_half - 2 * first, own_halves)), 2 * (cells - first))
    body = _FULL_BLOCK * (halves // 2) + _HALF_BLOCK * (halves % 2)
    return (" " * first + body).ljust(cells)


def _error_line(prefix: str, error: Mapping[str, Any], width: int, color: bool) -> str:
    """``<prefix>ERROR <type>: <value>  (file:line in function)``, fitted to ``width``.

    The message is shortened first so that the location stays readable.
    """
    kind, value = one_line(error.get("type")), one_line(error.get("value"))
    message = "ERROR " + (": ".join(p for p in (kind, value) if p) or "(no message)")
    location = _location(error.get("location"))
    location = f"  ({location})" if location else ""
    if width - len(location) - len(prefix) >= 20:
        line = _fit(prefix + message, width - len(location)) + location
    else:
        line = _fit(prefix + message + location, width)
    return _red(line) if color else line


def _location(location: object) -> str:
    """``file:line in function`` from the error's location, dropping missing parts."""
    if not isinstance(location, Mapping):
        return ""
    file, line = one_line(location.get("file")), one_line(location.get("line"))
    function = one_line(location.get("function"))
    where = f"{file}:{line}" if file and line else file
    if function:
        return f"{where} in {function}" if where else f"in {function}"
    return where


def _context_lines(errors: Sequence[Mapping[str, Any]], width: int) -> Iterator[str]:
    """Each error's custom contexts: a blank line, ``<Name> Context:``, ``  key: value``.

    Keys are printed as stored, because that is how search refers to them. A
    ``type`` key repeating the context's name (added by some SDKs) is left out.
    """
    for error in errors:
        contexts = error.get("contexts")
        if not isinstance(contexts, Mapping):
            continue
        for name, context in contexts.items():
            if str(name).lower() in STANDARD_CONTEXTS or not isinstance(context, Mapping):
                continue
            items = [(k, v) for k, v in context.items() if not (k == "type" and v == name)]
            if not items:
                continue
            yield ""
            yield _fit(f"{_title(str(name))} Context:", width)
            for key, value in items:
                yield _fit(f"  {one_line(key)}: {one_line(_value_text(value))}", width)


# --- small text helpers ---------------------------------------------------------------


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, ending in … when something was cut."""
    if len(text) <= width:
        return text
    return text[: width - 1] + "…" if width > 0 else ""


def _clip_prefix(prefix: str, limit: int) -> str:
    """Keep the right end of a deep tree prefix so labels keep their room."""
    if len(prefix) <= limit:
        return prefix
    return "…" + prefix[len(prefix) - limit + 1 :] if limit > 0 else ""


def _value_text(value: object) -> str:
    """A context value as text: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _title(name: str) -> str:
    """``blockchain`` → ``Blockchain``, ``aws_lambda`` → ``Aws Lambda``."""
    words = re.split(r"[\s_\-]+", one_line(name))
    return " ".join(w[:1].upper() + w[1:] for w in words if w) or "Unnamed"


def _red(text: str) -> str:
    return f"{_RED}{text}{_RESET}"


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []
