"""The terminal waterfall, asserted on what a person sees in the output."""

from __future__ import annotations

import re
from typing import Any

import pytest

from glasspane.cli.waterfall import render_waterfall
from glasspane.query.trace_tree import format_duration, is_failure, span_label

T0 = 1_763_242_452.0
BAR = re.compile(r"\[([█▌ ]+)\]")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def span(
    span_id: str,
    parent: str | None,
    start: float,
    seconds: float,
    *,
    service: str = "svc",
    op: str = "function",
    description: str | None = None,
    status: str | None = "ok",
    **extra: Any,
) -> dict[str, Any]:
    """A span as the trace API returns it; ``start`` is seconds after ``T0``."""
    return {
        "span_id": span_id,
        "parent_span_id": parent,
        "service": service,
        "project": service,
        "project_id": 1,
        "transaction": extra.pop("transaction", None),
        "op": op,
        "description": description if description is not None else f"work {span_id}",
        "status": status,
        "start_timestamp": T0 + start,
        "timestamp": T0 + start + seconds,
        "duration_ms": seconds * 1000,
        "is_transaction": extra.pop("is_transaction", False),
        "tags": {},
        "data": {},
        **extra,
    }


def error(span_id: str | None, **extra: Any) -> dict[str, Any]:
    """An error event as the trace API returns it."""
    return {
        "event_id": "e" * 32,
        "issue_id": 1,
        "span_id": span_id,
        "type": "TransactionTimeoutError",
        "value": "Transaction 0x7a not confirmed after 30 seconds",
        "culprit": "registerDocument",
        "timestamp": T0 + 30,
        "contexts": {},
        "location": {"file": "blockchain.ts", "line": 87, "function": "registerDocument"},
        "project": "blockchain-indexer",
        "level": "error",
        **extra,
    }


def trace(
    spans: list[dict[str, Any]], errors: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    """A trace as the API returns it, its duration and services taken from ``spans``."""
    services = sorted({s["service"] for s in spans})
    ends = [s["timestamp"] for s in spans if s["timestamp"]] or [T0]
    starts = [s["start_timestamp"] for s in spans if s["start_timestamp"]] or [T0]
    return {
        "trace_id": "9f8e7d6c5b4a3210" * 2,
        "duration_ms": (max(ends) - min(starts)) * 1000,
        "status": "error" if errors else "ok",
        "services": services,
        "spans": spans,
        "errors": errors or [],
        **extra,
    }


def scenario() -> dict[str, Any]:
    """The document upload of the scenario, cut down to the interesting spans."""
    # fmt: off
    spans = [
        span("root", None, 0, 30.2, service="frontend", op="ui.action", description="",
             transaction="uploadDocument", is_transaction=True),
        span("upload", "root", 0.1, 1.2, service="trust-platform", op="http.server",
             description="POST /api/documents/upload", is_transaction=True),
        span("verify", "upload", 0.2, 0.12, service="auth-worker", description="verifyToken"),
        span("select", "verify", 0.25, 0.045, service="auth-worker", op="db.query",
             description="SELECT user"),
        span("register", "root", 9.1, 21.1, service="blockchain-indexer", op="default",
             description="", transaction="registerDocument", is_transaction=True,
             status="internal_error"),
        span("wait", "register", 10.2, 20.0, service="blockchain-indexer",
             op="blockchain.wait", description="Wait for confirmation",
             status="deadline_exceeded"),
    ]
    # fmt: on
    contexts = {
        "trace": {"trace_id": "9f8e"},
        "runtime": {"name": "node"},
        "blockchain": {"type": "blockchain", "network": "base-sepolia", "gas_limit": 500000},
    }
    return trace(spans, [error("wait", contexts=contexts)])


def lines_of(output: str) -> list[str]:
    return output.split("\n")


def row(output: str, text: str) -> str:
    """The one line of ``output`` below the header that contains ``text``."""
    found = [line for line in lines_of(output)[1:] if text in line]
    assert len(found) == 1, f"{text!r} is on {len(found)} lines:\n{output}"
    return found[0]


def bar(line: str) -> str:
    match = BAR.search(line)
    assert match, f"no bar in {line!r}"
    return match.group(1)


# --- durations, statuses, labels --------------------------------------------------------


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (None, "0ms"),
        (0, "0ms"),
        (-5, "0ms"),
        ("12", "0ms"),
        (float("nan"), "0ms"),
        (0.4, "<1ms"),
        (0.5, "<1ms"),
        (1, "1ms"),
        (45, "45ms"),
        (999.4, "999ms"),
        (999.6, "1.0s"),
        (1200, "1.2s"),
        (30_200, "30.2s"),
        (59_960, "1m00s"),
        (123_000, "2m03s"),
        (3_599_000, "59m59s"),
        (3_900_000, "1h05m"),
    ],
)
def test_durations_are_formatted_for_people(ms: object, text: str) -> None:
    assert format_duration(ms) == text


@pytest.mark.parametrize(
    ("status", "failed"),
    [
        ("ok", False),
        ("cancelled", False),
        ("unknown", False),
        ("OK", False),
        (None, False),
        ("", False),
        ("internal_error", True),
        ("unknown_error", True),
        ("deadline_exceeded", True),
        ("error", True),
    ],
)
def test_only_ok_cancelled_and_unknown_are_not_failures(status: str | None, failed: bool) -> None:
    assert is_failure(status) is failed


@pytest.mark.parametrize(
    ("fields", "label"),
    [
        ({"op": "db.query", "description": "SELECT user"}, "svc: db.query SELECT user"),
        ({"op": "", "description": "verifyToken"}, "svc: verifyToken"),
        ({"op": "db", "description": None}, "svc: db"),
        ({"op": "same", "description": "same"}, "svc: same"),
        ({"service": "", "project": "proj"}, "proj: function work x"),
        ({"service": "", "project": "", "op": "", "description": ""}, "span x"),
        ({"description": "line one\n\x1b[2Jline two"}, "svc: function line one [2Jline two"),
        (
            {"is_transaction": True, "op": "default", "description": "", "transaction": "t1"},
            "svc: t1",
        ),
        (
            {"is_transaction": True, "op": "", "description": "t1", "transaction": "t1"},
            "svc: t1",
        ),
        (
            {"is_transaction": True, "op": "http.server", "description": "POST /a"},
            "svc: http.server POST /a",
        ),
    ],
)
def test_span_labels_drop_empty_parts(fields: dict[str, Any], label: str) -> None:
    assert span_label(span("x", None, 0, 1) | fields) == label


# --- header and rows --------------------------------------------------------------------


def test_header_names_trace_root_status_duration_and_services() -> None:
    header = lines_of(render_waterfall(scenario()))[0]
    assert header == (
        "Trace 9f8e7d6c5b4a32109f8e7d6c5b4a3210 · uploadDocument · ✗ error · 30.2s · 4 services"
    )


def test_header_of_a_healthy_single_service_trace() -> None:
    header = lines_of(render_waterfall(trace([span("a", None, 0, 0.045)])))[0]
    assert header.endswith("· ✓ ok · 45ms · 1 service")


def test_narrow_header_shortens_the_id_before_losing_status() -> None:
    header = lines_of(render_waterfall(scenario(), width=75))[0]
    assert header.startswith("Trace 9f8e7d6c5b4a3210… · uploadDocument")
    assert header.endswith("✗ error · 30.2s · 4 services")


def test_children_are_indented_under_their_parent() -> None:
    lines = lines_of(render_waterfall(scenario(), width=160))
    assert lines[1].startswith("frontend: ui.action uploadDocument ")
    assert lines[2].startswith("  ├─ trust-platform: http.server POST /api/documents/upload ")
    assert lines[3].startswith("  │   └─ auth-worker: function verifyToken ")
    assert lines[4].startswith("  │       └─ auth-worker: db.query SELECT user ")
    assert lines[5].startswith("  └─ blockchain-indexer: registerDocument ")
    assert lines[6].startswith(
        "      └─ blockchain-indexer: blockchain.wait Wait for confirmation "
    )


def test_children_are_ordered_by_start_time_not_input_order() -> None:
    spans = [
        span("root", None, 0, 10),
        span("late", "root", 6, 1),
        span("early", "root", 1, 1),
        span("middle", "root", 3, 1),
    ]
    lines = lines_of(render_waterfall(trace(spans)))
    assert [line.split()[4] for line in lines[2:5]] == ["early", "middle", "late"]
    assert lines[4].startswith("  └─ ")


@pytest.mark.parametrize(
    ("start", "seconds", "expected"),
    [
        (0, 10, "█" * 20),
        (5, 5, " " * 10 + "█" * 10),
        (0, 2.5, "█" * 5 + " " * 15),
        (2.5, 2.5, " " * 5 + "█" * 5 + " " * 10),
        (0, 0.75, "█▌" + " " * 18),
        (5, 0.001, " " * 10 + "▌" + " " * 9),
        (10, 0, " " * 19 + "▌"),
        (9.99, 0, " " * 19 + "▌"),
        (9.9, 0.1, " " * 19 + "▌"),
    ],
)
def test_bars_are_placed_and_sized_on_the_trace_time_axis(
    start: float, seconds: float, expected: str
) -> None:
    spans = [span("root", None, 0, 10), span("x", "root", start, seconds)]
    output = render_waterfall(trace(spans), width=61)
    assert len(bar(row(output, "work root"))) == 20  # two fifths of what the columns leave
    assert bar(row(output, "work x")) == expected


def test_second_half_span_starts_at_the_middle_of_the_bar_column() -> None:
    spans = [span("root", None, 0, 8), span("second", "root", 4, 4)]
    for width in (60, 100, 143, 200):
        cells = bar(row(render_waterfall(trace(spans), width=width), "work second"))
        assert cells.index("█") == len(cells) // 2
        assert cells.rstrip().endswith("█")


def test_rows_show_duration_and_status_marks() -> None:
    output = render_waterfall(scenario())
    assert row(output, "uploadDocument ").endswith("] 30.2s ✓")
    assert row(output, "verifyToken").endswith("] 120ms ✓")
    assert row(output, "SELECT user").endswith("]  45ms ✓")
    assert row(output, "registerDocument ").endswith("] 21.1s ✗")
    assert row(output, "blockchain.wait").endswith("] 20.0s ✗")


def test_missing_duration_is_shown_as_zero() -> None:
    broken = span("x", None, 0, 1) | {"duration_ms": None, "timestamp": None}
    assert row(render_waterfall(trace([broken])), "work x").endswith("] 0ms ✓")


# --- errors and contexts ----------------------------------------------------------------


def test_error_is_drawn_under_the_span_it_happened_in() -> None:
    lines = lines_of(render_waterfall(scenario(), width=160))
    wait = next(i for i, line in enumerate(lines) if "Wait for confirmation" in line)
    assert lines[wait + 1] == (
        "          └─ ERROR TransactionTimeoutError: Transaction 0x7a not confirmed after "
        "30 seconds  (blockchain.ts:87 in registerDocument)"
    )


def test_errors_come_before_the_children_of_their_span() -> None:
    spans = [span("root", None, 0, 10), span("child", "root", 1, 1)]
    lines = lines_of(render_waterfall(trace(spans, [error("root", location=None)])))
    assert lines[1].startswith("svc: function work root ")
    assert (
        lines[2]
        == "  ├─ ERROR TransactionTimeoutError: Transaction 0x7a not confirmed after 30 seconds"
    )
    assert lines[3].startswith("  └─ svc: function work child ")


def log(span_id: str | None, body: str, level: str = "info") -> dict[str, Any]:
    """A log as the trace API returns it."""
    return {"timestamp": T0 + 1, "level": level, "body": body, "span_id": span_id}


def test_logs_sit_under_their_span_after_its_errors_before_its_children() -> None:
    spans = [span("root", None, 0, 10), span("child", "root", 1, 1)]
    logs = [log("root", "Case AAA-1 created"), log("root", "took 120 ms", "warn")]
    lines = lines_of(render_waterfall(trace(spans, [error("root", location=None)], logs=logs)))
    assert lines[1].startswith("svc: function work root ")
    assert lines[2].startswith("  ├─ ERROR TransactionTimeoutError")
    assert lines[3:5] == ["  ├─ LOG INFO Case AAA-1 created", "  ├─ LOG WARN took 120 ms"]
    assert lines[5].startswith("  └─ svc: function work child ")


def test_a_leaf_span_closes_its_branch_with_its_last_log() -> None:
    spans = [span("root", None, 0, 10), span("child", "root", 1, 1)]
    output = render_waterfall(trace(spans, logs=[log("child", "done\x1b[2J")]), width=60)
    assert lines_of(output)[3] == "      └─ LOG INFO done [2J"


def test_logs_without_a_matching_span_are_listed_at_the_end() -> None:
    logs = [log("gone", "lost", "error"), log(None, "no span")]
    lines = lines_of(render_waterfall(trace([span("a", None, 0, 1)], logs=logs), color=True))
    assert lines[2:] == [
        "Logs not attached to a span:",
        "\x1b[31m  LOG ERROR lost\x1b[0m",
        "  LOG INFO no span",
    ]


@pytest.mark.parametrize(
    ("location", "suffix"),
    [
        ({"file": "a.py", "line": 3, "function": "f"}, "  (a.py:3 in f)"),
        ({"file": "a.py", "line": None, "function": "f"}, "  (a.py in f)"),
        ({"file": "a.py", "line": 3, "function": None}, "  (a.py:3)"),
        ({"file": None, "line": None, "function": "f"}, "  (in f)"),
        (None, "seconds"),
    ],
)
def test_error_location_drops_missing_parts(location: object, suffix: str) -> None:
    output = render_waterfall(trace([span("a", None, 0, 1)], [error("a", location=location)]))
    assert row(output, "ERROR").endswith(suffix)


def test_errors_without_a_matching_span_are_listed_at_the_end() -> None:
    spans = [span("a", None, 0, 1)]
    errors = [error("gone", type="NetworkError", value="timeout", location=None), error(None)]
    lines = lines_of(render_waterfall(trace(spans, errors), width=160))
    assert lines[2:] == [
        "Errors not attached to a span:",
        "  ERROR NetworkError: timeout",
        "  ERROR TransactionTimeoutError: Transaction 0x7a not confirmed after 30 seconds"
        "  (blockchain.ts:87 in registerDocument)",
    ]


def test_custom_contexts_are_printed_and_sdk_contexts_are_not() -> None:
    lines = lines_of(render_waterfall(scenario()))
    assert lines[-4:] == [
        "",
        "Blockchain Context:",
        "  network: base-sepolia",
        "  gas_limit: 500000",
    ]
    assert not any("Runtime" in line or "Trace Context" in line for line in lines)


@pytest.mark.parametrize(
    ("contexts", "block"),
    [
        ({"aws_lambda": {"name": "f"}}, ["", "Aws Lambda Context:", "  name: f"]),
        (
            {"order": {"ids": [1, 2], "paid": True, "note": None}},
            ["", "Order Context:", "  ids: [1, 2]", "  paid: true", "  note: null"],
        ),
        ({"os": {"name": "Linux"}, "device": {"arch": "x86"}}, []),
        ({"empty": {}, "only_type": {"type": "only_type"}, "bad": "not a dict"}, []),
    ],
)
def test_context_block(contexts: dict[str, Any], block: list[str]) -> None:
    output = render_waterfall(trace([span("a", None, 0, 1)], [error("a", contexts=contexts)]))
    after_error = lines_of(output)[3:]
    assert after_error == block


# --- orphans and broken trees -----------------------------------------------------------


def test_spans_with_a_missing_parent_are_top_level_orphans() -> None:
    spans = [
        span("root", None, 0, 10),
        span("lost", "never-arrived", 2, 1),
        span("flagged", "root", 3, 1, orphan=True),
        span("child", "root", 4, 1),
    ]
    output = render_waterfall(trace(spans), now=T0 + 3600)
    assert row(output, "work lost").startswith("svc: function work lost (parent missing) ")
    assert row(output, "work flagged").startswith("svc: function work flagged (parent missing) ")
    assert row(output, "work child").startswith("  └─ svc: function work child ")
    assert "(parent missing)" not in row(output, "work root")
    assert "orphan" not in output


def test_in_a_recent_trace_a_missing_parent_has_not_arrived_yet() -> None:
    """Upstream transactions are sent when they end: their children come first."""
    spans = [span("late", "still-running", 0, 1), span("child", "late", 0.5, 0.2)]
    recent = render_waterfall(trace(spans), now=T0 + 60)
    assert row(recent, "work late").startswith("svc: function work late (parent not arrived yet) ")
    assert row(recent, "work child").startswith("  └─ svc: function work child ")
    old = render_waterfall(trace(spans), now=T0 + 301)
    assert row(old, "work late").startswith("svc: function work late (parent missing) ")


def test_spans_in_a_parent_cycle_are_each_shown_once() -> None:
    spans = [
        span("root", None, 0, 10),
        span("a", "b", 1, 1),
        span("b", "a", 2, 1),
        span("self", "self", 3, 1),
    ]
    output = render_waterfall(trace(spans))
    assert len(lines_of(output)) == 5
    assert row(output, "work a").startswith("svc: function work a (parent missing) ")
    assert row(output, "work b").startswith("  └─ svc: function work b ")
    assert row(output, "work self").startswith("svc: function work self (parent missing) ")


def test_an_empty_trace_says_so() -> None:
    output = render_waterfall({"trace_id": "abc", "spans": [], "errors": []})
    assert lines_of(output) == [
        "Trace abc · (no transaction) · ✓ ok · 0ms · 0 services",
        "(this trace has no spans)",
    ]


# --- width, colour, hostile text, size --------------------------------------------------


def long_trace() -> dict[str, Any]:
    spans = [span("root", None, 0, 100, description="r" * 300)]
    for depth in range(30):
        spans.append(span(f"s{depth}", spans[-1]["span_id"], depth, 2, description="d" * 200))
    errors = [
        error("s29", value="v" * 500, location={"file": "f" * 80, "line": 1, "function": "g"}),
        error("nowhere", value="w" * 500, contexts={"big": {"k" * 50: "x" * 500}}),
    ]
    return trace(spans, errors, trace_id="f" * 200)


@pytest.mark.parametrize("width", [1, 10, 25, 40, 60, 80, 100, 160])
@pytest.mark.parametrize("color", [False, True])
def test_no_line_is_wider_than_the_width(width: int, color: bool) -> None:
    for source in (scenario(), long_trace()):
        for line in lines_of(render_waterfall(source, width=width, color=color)):
            assert len(ANSI.sub("", line)) <= width, line


def test_rows_fill_exactly_the_width() -> None:
    for width in (40, 100, 160):
        rows = lines_of(render_waterfall(scenario(), width=width))[1:7]
        assert {len(line) for line in rows} == {width}


def test_long_labels_are_cut_with_an_ellipsis() -> None:
    output = render_waterfall(long_trace(), width=80)
    root = row(output, "rrrr")
    assert root.startswith("svc: function rrr")
    assert "r… [" in root


def test_zero_width_is_refused() -> None:
    with pytest.raises(ValueError, match="width must be at least 1"):
        render_waterfall(scenario(), width=0)


def test_no_colour_unless_asked() -> None:
    assert "\x1b" not in render_waterfall(scenario())


def test_colour_marks_failures_and_error_lines_red() -> None:
    output = render_waterfall(scenario(), width=160, color=True)
    assert row(output, "Wait for confirmation").endswith("\x1b[31m✗\x1b[0m")
    assert row(output, "ERROR").startswith("\x1b[31m")
    assert "\x1b[31m✗ error\x1b[0m" in lines_of(output)[0]
    assert "\x1b" not in row(output, "verifyToken")


def test_control_characters_from_the_trace_never_reach_the_terminal() -> None:
    hostile = "\x1b[2J\x1b]0;owned\x07 desc\nsecond line\u202e"
    spans = [span("a", None, 0, 1, description=hostile, service="svc\r")]
    errors = [error("a", type="E\x1b[5m", value="v\n\tx", contexts={"c\x1b": {"k\n": "\x1bv"}})]
    output = render_waterfall(trace(spans, errors))
    assert "\x1b" not in output and "\r" not in output and "\x07" not in output
    assert "\u202e" not in output
    assert len(lines_of(output)) == 6  # header, row, error, blank, context title, one key


def test_two_thousand_sibling_spans() -> None:
    spans = [span("root", None, 0, 2000)]
    spans += [
        span(f"s{i}", "root", i, 1, status="ok" if i % 7 else "internal_error") for i in range(1999)
    ]
    output = render_waterfall(trace(spans))
    lines = lines_of(output)
    assert len(lines) == 2001
    assert lines[-1].startswith("  └─ svc: function work s1998 ")
    assert sum(line.endswith("✗") for line in lines[1:]) == 286


def test_two_thousand_nested_spans_do_not_hit_the_recursion_limit() -> None:
    spans = [span("s0", None, 0, 2000)]
    spans += [span(f"s{i}", f"s{i - 1}", i, 1) for i in range(1, 2000)]
    lines = lines_of(render_waterfall(trace(spans), width=100))
    assert len(lines) == 2001
    assert all(len(line) <= 100 for line in lines)
    assert lines[-1].startswith("…")


def _n_plus_one_trace() -> dict[str, Any]:
    spans = [span("root", None, 0, 1, transaction="GET /cases", is_transaction=True)]
    spans += [
        span(f"call{i}", "root", 0.1 * i, 0.05, op="http.client", description=f"GET /u/{i}")
        for i in range(4)
    ]
    return trace(spans)


def test_highlighted_spans_are_marked_and_counted() -> None:
    lines = render_waterfall(
        _n_plus_one_trace(), width=100, now=T0, highlight=["call1", "call2", "gone"]
    ).splitlines()
    marked = [line for line in lines if "◀" in line]
    assert [("GET /u/1" in line, "GET /u/2" in line) for line in marked[:2]] == [
        (True, False),
        (False, True),
    ]
    assert marked[2:] == ["◀ 2 highlighted spans (1 not in this trace)"]
    assert all(len(line) <= 100 for line in lines)


def test_without_highlight_no_row_is_marked() -> None:
    assert "◀" not in render_waterfall(_n_plus_one_trace(), width=100, now=T0)


# --- critical path ----------------------------------------------------------------------


def _critical_trace() -> dict[str, Any]:
    """A request whose slow second call set its end; the first call is off the path."""
    spans = [
        span("root", None, 0, 2, transaction="GET /cases", is_transaction=True, critical=True),
        span("fast", "root", 0.1, 0.3, op="http.client", description="GET /fast", critical=False),
        span("slow", "root", 0.5, 1.4, op="http.client", description="GET /slow", critical=True),
    ]
    return trace(spans)


def test_critical_path_spans_are_marked_before_their_bar_and_explained() -> None:
    output = render_waterfall(_critical_trace(), width=100, now=T0)
    lines = lines_of(output)
    marked = [line for line in lines if "●[" in line]
    assert marked == [row(output, "work root"), row(output, "GET /slow")]
    assert " [" in row(output, "GET /fast") and "●" not in row(output, "GET /fast")
    assert lines[4] == "● critical path: 2 spans that set the trace's 2.0s"
    assert {len(line) for line in lines[1:4]} == {100}


def test_critical_bars_are_bold_yellow_in_colour() -> None:
    output = render_waterfall(_critical_trace(), width=100, color=True, now=T0)
    slow = row(output, "GET /slow")
    assert re.search(r"●\[\x1b\[1;33m[█▌ ]+\x1b\[0m\]", slow), slow
    assert "\x1b" not in row(output, "GET /fast")
    assert all(len(ANSI.sub("", line)) <= 100 for line in output.splitlines())


@pytest.mark.parametrize("width", [1, 10, 25, 40])
def test_narrow_critical_rows_stay_within_the_width(width: int) -> None:
    for line in render_waterfall(_critical_trace(), width=width, color=True).splitlines():
        assert len(ANSI.sub("", line)) <= width, line


def test_without_critical_flags_no_row_is_marked_and_no_legend() -> None:
    assert "●" not in render_waterfall(_n_plus_one_trace(), width=100, now=T0)
