"""Issues, traces, spans, regressions and user impact as terminal text
(``glasspane issues``, ``search``, ``spans``, ``regressions``, ``impact``).

Pure: each function takes the JSON of an API answer and returns text. Text
from events is reduced to one printable line, so a hostile title cannot move
the cursor; long titles are cut to ``title_width`` characters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from glasspane.cli.tables import ms, percent, render_table

_UNPRINTABLE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]+")
_SPARK = "▁▂▃▄▅▆▇█"


def cell(value: object, width: int | None = None) -> str:
    """One line of printable text; ``--`` for nothing; cut with … past ``width``."""
    if value is None or value == "":
        return "--"
    text = _UNPRINTABLE.sub(" ", str(value)).strip()
    if width is not None and len(text) > width:
        return text[: max(0, width - 1)] + "…"
    return text


def ago(timestamp: float | None, now: float) -> str:
    """``42s ago``, ``5m ago``, ``3h ago``, ``2d ago``."""
    if timestamp is None:
        return "--"
    seconds = max(0.0, now - timestamp)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return f"{int(seconds)}s ago"


def sparkline(series: list[int] | None) -> str:
    """Counts as block characters, scaled to the largest; blank for none."""
    if not series:
        return ""
    top = max(series)
    if top == 0:
        return " " * len(series)
    return "".join(" " if n == 0 else _SPARK[min(7, (n * 8 - 1) // top)] for n in series)


def _status(issue: Mapping[str, Any]) -> str:
    status = str(issue.get("status") or "")
    return f"{status} (regressed)" if issue.get("regressed") else status


def issues_table(answer: Mapping[str, Any], now: float, title_width: int = 60) -> str:
    """``GET /api/v1/issues`` as a table, in the order the server sorted it."""
    rows = [
        (
            str(i["id"]),
            cell(i.get("level")),
            _status(i),
            str(i["count"]),
            str(i["users"]),
            ago(i.get("last_seen"), now),
            ago(i.get("first_seen"), now),
            cell(i.get("project")),
            sparkline(i.get("series")),
            cell(i.get("title"), title_width),
        )
        for i in answer.get("issues", [])
    ]
    headers = (
        "ID", "LEVEL", "STATUS", "EVENTS", "USERS", "LAST SEEN", "FIRST SEEN", "PROJECT",
        "TREND", "TITLE",
    )  # fmt: skip
    right = (True, False, False, True, True, True, True, False, False, False)
    if not rows:
        return "No issues match."
    return render_table(headers, rows, right)


def traces_table(answer: Mapping[str, Any], now: float) -> str:
    """``GET /api/v1/traces`` as a table."""
    rows = [
        (
            cell(t.get("trace_id")),
            cell(t.get("transaction"), 40),
            cell(t.get("service"), 24),
            ms(t.get("duration_ms")),
            cell(t.get("status")),
            cell(t.get("user"), 32),
            ago(t.get("timestamp"), now),
        )
        for t in answer.get("traces", [])
    ]
    headers = ("TRACE", "TRANSACTION", "SERVICE", "DURATION", "STATUS", "USER", "STARTED")
    if not rows:
        return "No traces match."
    return render_table(headers, rows, (False, False, False, True, False, False, True))


def spans_table(answer: Mapping[str, Any], now: float) -> str:
    """``GET /api/v1/spans`` as a table."""
    rows = [
        (
            cell(s.get("trace_id")),
            cell(s.get("op"), 24),
            cell(s.get("description"), 48),
            cell(s.get("transaction"), 32),
            cell(s.get("service"), 24),
            ms(s.get("duration_ms")),
            cell(s.get("status")),
            ago(s.get("start_timestamp"), now),
        )
        for s in answer.get("spans", [])
    ]
    headers = (
        "TRACE", "OP", "DESCRIPTION", "TRANSACTION", "SERVICE", "DURATION", "STATUS", "STARTED",
    )  # fmt: skip
    if not rows:
        return "No spans match."
    return render_table(headers, rows, (False,) * 5 + (True, False, True))


def _count(value: float | None) -> str:
    """A weighted count: whole when it is, else one decimal."""
    if value is None:
        return "--"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def span_groups_table(answer: Mapping[str, Any], group_by: list[str]) -> str:
    """``GET /api/v1/spans/aggregate`` as a table: the ``group_by`` keys, then the
    weighted count, the spans received, p50, p95, average, total and failure rate."""
    rows = [
        (
            *(cell(g.get(key), 48) for key in group_by),
            _count(g.get("count")),
            str(g.get("samples", "--")),
            ms(g.get("p50_ms")),
            ms(g.get("p95_ms")),
            ms(g.get("avg_ms")),
            ms(g.get("sum_ms")),
            percent(g.get("failure_rate")),
        )
        for g in answer.get("groups", [])
    ]
    measures = ("COUNT", "SAMPLES", "P50", "P95", "AVG", "TOTAL", "FAILURE RATE")
    headers = (*(cell(key.upper(), 48) for key in group_by), *measures)
    if not rows:
        return "No spans match."
    return render_table(headers, rows, (False,) * len(group_by) + (True,) * 7)


def _change(row: Mapping[str, Any]) -> tuple[str, str]:
    """A regression's before and after: durations for p95, percentages for rates."""
    if row.get("metric") == "p95":
        return ms(row.get("before_ms")), ms(row.get("after_ms"))
    return percent(row.get("before")), percent(row.get("after"))


def regressions_table(answer: Mapping[str, Any], now: float) -> str:
    """``GET /api/v1/regressions`` as a table, largest change first (the server's order)."""
    rows = [
        (
            cell(r.get("transaction"), 40),
            cell(r.get("service"), 24),
            cell(r.get("metric")),
            *_change(r),
            f"{r['change_pct']:+.0f}%",
            ago(r.get("started_at"), now),
        )
        for r in answer.get("regressions", [])
    ]
    headers = ("TRANSACTION", "SERVICE", "METRIC", "BEFORE", "AFTER", "CHANGE", "STARTED")
    if not rows:
        return "No regressions in the period."
    return render_table(headers, rows, (False, False, False, True, True, True, True))


def impact_text(answer: Mapping[str, Any]) -> str:
    """``GET /api/v1/impact``: the two totals, then affected users by country,
    browser and operating system."""
    lines = [
        f"Affected users        {answer['users']:,}",
        f"Failing transactions  {answer['transactions']:,.0f}",
    ]
    for header, key in (("COUNTRY", "by_country"), ("BROWSER", "by_browser"), ("OS", "by_os")):
        rows = [(cell(name, 40), str(users)) for name, users in answer.get(key, {}).items()]
        if rows:
            lines += ["", render_table((header, "USERS"), rows, (False, True))]
    return "\n".join(lines)
