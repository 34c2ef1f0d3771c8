"""Pure parts of the web UI: the waterfall model, chart geometry, sessions."""

from __future__ import annotations

import time
from typing import Any

import pytest

from glasspane.web.ui import charts, waterfall
from glasspane.web.ui.render import ago, percent
from glasspane.web.ui.session import safe_next

T0 = 1_700_000_000.0


def span(
    span_id: str,
    parent: str | None,
    start: float,
    end: float,
    service: str = "api",
    op: str = "db",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "span_id": span_id,
        "parent_span_id": parent,
        "service": service,
        "project": service,
        "op": op,
        "description": f"step {span_id}",
        "status": "ok",
        "start_timestamp": T0 + start,
        "timestamp": T0 + end,
        "duration_ms": (end - start) * 1000,
        "is_transaction": False,
        "tags": {},
        "data": {},
        **extra,
    }


def scenario() -> dict[str, Any]:
    spans = [
        span(
            "a",
            None,
            0,
            3,
            "front",
            "http.server",
            is_transaction=True,
            transaction="uploadDocument",
            description="uploadDocument",
        ),
        span("b", "a", 0.1, 0.5, "front", "file.read"),
        span("c", "a", 0.6, 2.9, "front", "http.client"),
        span(
            "d",
            "c",
            0.7,
            2.8,
            "chain",
            "http.server",
            is_transaction=True,
            transaction="registerDocument",
        ),
        span("e", "d", 0.8, 0.9, "chain", "blockchain.prepare"),
        span("f", "d", 1.0, 2.7, "chain", "blockchain.wait", status="deadline_exceeded"),
    ]
    error = {
        "event_id": "x1",
        "issue_id": 7,
        "span_id": "f",
        "project": "chain",
        "type": "TransactionTimeoutError",
        "value": "Transaction 0x7a not confirmed after 30 seconds",
        "location": {"file": "chain.py", "line": 87, "function": "wait"},
        "timestamp": T0 + 2.7,
        "contexts": {"blockchain": {"network": "base-sepolia"}, "runtime": {"name": "CPython"}},
    }
    return {"trace_id": "t" * 32, "services": ["front", "chain"], "spans": spans, "errors": [error]}


def test_rows_nest_depth_first_with_errors_under_their_span() -> None:
    view = waterfall.build(scenario())
    assert [(r.span_id, r.depth) for r in view.rows] == [
        ("a", 0),
        ("b", 1),
        ("c", 1),
        ("d", 2),
        ("e", 3),
        ("f", 3),
    ]
    wait = view.rows[-1]
    assert wait.failed and wait.errors[0]["type"] == "TransactionTimeoutError"
    assert wait.service == "chain" and wait.name == "blockchain.wait step f"
    assert view.rows[0].name == "http.server uploadDocument"
    assert view.rows[0].left_pct == 0 and view.rows[0].width_pct == 100
    assert wait.left_pct == pytest.approx(100 / 3, abs=0.01)
    assert wait.width_pct == pytest.approx(170 / 3, abs=0.01)
    assert view.rows[0].colour != view.rows[3].colour  # one colour per service


def test_summary_names_each_service_and_the_failing_step() -> None:
    view = waterfall.build(scenario())
    assert [(s.service, s.state, s.duration) for s in view.steps] == [
        ("front", "ok", "3.0s"),
        ("chain", "failed", "2.1s"),
    ]
    assert view.culprit is not None and view.culprit.kind == "failed"
    assert view.culprit.row.span_id == "f"
    assert view.culprit.contexts == {"blockchain": {"network": "base-sepolia"}}
    assert view.selected == "f"  # the failing span is selected first
    assert waterfall.build(scenario(), "b").selected == "b"


def test_a_caller_failing_only_because_its_callee_failed_is_marked_propagated() -> None:
    trace = scenario()
    trace["spans"][2]["status"] = "deadline_exceeded"  # front's HTTP call saw the 504
    view = waterfall.build(trace)
    assert {s.service: s.state for s in view.steps} == {"front": "propagated", "chain": "failed"}
    trace["errors"] = []
    trace["spans"][1]["status"] = "internal_error"  # and now a failure of front's own
    view = waterfall.build(trace)
    assert {s.service: s.state for s in view.steps} == {"front": "failed", "chain": "failed"}


def test_without_errors_the_slowest_leaf_is_named() -> None:
    trace = scenario()
    trace["errors"] = []
    trace["spans"][-1]["status"] = "ok"
    view = waterfall.build(trace)
    assert view.culprit is not None and view.culprit.kind == "slowest"
    assert view.culprit.row.span_id == "f"
    assert not any(s.failed for s in view.steps)


def test_orphans_and_parent_cycles_are_shown_once_and_marked() -> None:
    spans = [
        span("root", None, 0, 1),
        span("lost", "never-arrived", 0.2, 0.3),
        span("x", "y", 0.4, 0.5),
        span("y", "x", 0.5, 0.6),
    ]
    view = waterfall.build({"spans": spans, "errors": []})
    ids = [r.span_id for r in view.rows]
    assert sorted(ids) == ["lost", "root", "x", "y"]
    orphans = {r.span_id for r in view.rows if r.orphan}
    assert "lost" in orphans and orphans & {"x", "y"}
    assert not next(r for r in view.rows if r.span_id == "root").orphan


def test_errors_without_a_span_are_listed_apart() -> None:
    trace = {"spans": [], "errors": [{"span_id": None, "type": "KeyError", "value": "x"}]}
    view = waterfall.build(trace)
    assert view.rows == [] and view.unattached[0]["type"] == "KeyError"


def test_two_thousand_spans_build_quickly() -> None:
    spans = [span("s0", None, 0, 10, is_transaction=True, transaction="big")]
    for i in range(1, 2000):
        parent = f"s{(i - 1) // 3}"
        spans.append(span(f"s{i}", parent, i / 400, i / 400 + 0.01, f"svc{i % 12}"))
    started = time.perf_counter()
    view = waterfall.build({"spans": spans, "errors": []})
    assert len(view.rows) == 2000
    assert time.perf_counter() - started < 1.0
    assert max(r.depth for r in view.rows) >= 6
    assert len({r.colour for r in view.rows}) == waterfall.SERVICE_COLOURS


def test_a_deep_chain_does_not_recurse() -> None:
    spans = [span("s0", None, 0, 1)] + [span(f"s{i}", f"s{i - 1}", 0, 1) for i in range(1, 3000)]
    view = waterfall.build({"spans": spans, "errors": []})
    assert view.rows[-1].depth == 2999


def test_chart_geometry() -> None:
    assert charts.nice_ticks(0) == [0, 1]
    assert charts.nice_ticks(7) == [0, 2, 4, 6, 8]
    assert charts.nice_ticks(180) == [0, 50, 100, 150, 200]
    assert charts.nice_ticks(0.04) == [0, 0.01, 0.02, 0.03, 0.04]
    assert charts.sparkline([1, None, 3]).count("M") == 2  # a gap starts a new piece
    assert charts.sparkline([1, None, 3], width=2, height=6) == "M0.0,3.5 l0,0 M2.0,1.5 l0,0"
    assert charts.sparkline([1, 2, None], width=2, height=6).count("l0,0") == 0  # a line
    assert charts.sparkline([]) == ""
    hist = charts.histogram([10, 20, 30, 1000], str, bins=4)
    assert sum(int(b.title.rsplit(": ", 1)[1]) for b in hist.bars) == 4
    chart = charts.line_chart([T0, T0 + 60], {"p50": [None, 5.0]}, str, (T0, T0 + 120))
    assert chart.lines[0].path.startswith("M") and not chart.empty
    assert charts.line_chart([T0], {"p50": [None]}, str, (T0, T0 + 1)).empty


def test_threshold_line_band_and_dots() -> None:
    """An alert rule's chart: the threshold at its height, firing time shaded, values marked."""
    chart = charts.line_chart(
        [T0, T0 + 60], {"rate": [None, 0.3]}, str, (T0, T0 + 120), floor_top=0.4, dots=True
    )
    assert chart.y_max == 0.4
    charts.add_level(chart, 0.2, "threshold > 20%")
    [level] = chart.levels
    top, bottom = chart.y_ticks[-1].position, chart.plot_bottom
    assert level.position == pytest.approx((top + bottom) / 2)  # 0.2 of 0.4
    charts.add_level(chart, 5.0, "off the axis")  # above the axis: not drawn
    assert len(chart.levels) == 1
    charts.add_band(chart, T0 + 60, T0 + 500, "firing")  # clipped at the end
    [band] = chart.bands
    assert band.x == pytest.approx((chart.plot_left + chart.width - 8) / 2)
    assert band.x + band.width == pytest.approx(chart.width - 8)
    charts.add_band(chart, T0 - 100, T0 - 50, "before")  # outside: nothing
    assert len(chart.bands) == 1
    [dot] = chart.lines[0].dots
    assert dot.title.endswith(": 0.3") and dot.y < level.position


def test_formatting() -> None:
    assert percent(0.054) == "5.4%" and percent(0.00001) == "<0.1%" and percent(None) == "–"
    assert ago(T0 - 480, now=T0) == "8m ago" and ago(T0 - 5, now=T0) == "5s ago"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/issues?x=1", "/issues?x=1"),
        ("//evil.example", "/"),
        ("https://evil", "/"),
        ("/\\evil", "/"),
        (None, "/"),
    ],
)
def test_login_only_returns_to_local_paths(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_logs_hang_under_the_span_they_were_written_in() -> None:
    logs = [
        {"span_id": "b", "level": "info", "body": "Case created", "timestamp": T0 + 1},
        {"span_id": "gone", "level": "warn", "body": "no span", "timestamp": T0 + 2},
    ]
    trace = {"spans": [span("a", None, 0, 3), span("b", "a", 1, 2)], "logs": logs}
    view = waterfall.build(trace)
    rows = {r.span_id: r for r in view.rows}
    assert [g["body"] for g in rows["b"].logs] == ["Case created"]
    assert rows["a"].logs == []
    assert [g["body"] for g in view.unattached_logs] == ["no span"]
