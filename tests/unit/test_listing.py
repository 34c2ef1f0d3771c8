"""Issue and trace tables for the terminal (pure text from API answers)."""

from __future__ import annotations

import pytest

from glasspane.cli.listing import (
    ago,
    cell,
    impact_text,
    issues_table,
    regressions_table,
    span_groups_table,
    spans_table,
    sparkline,
    traces_table,
)

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s ago"), (59, "59s ago"), (60, "1m ago"), (3599, "59m ago"), (7200, "2h ago"),
     (3 * 86400 + 5, "3d ago"), (-5, "0s ago")],
)  # fmt: skip
def test_ago(seconds: float, text: str) -> None:
    assert ago(NOW - seconds, NOW) == text
    assert ago(None, NOW) == "--"


def test_cell_is_one_printable_line_and_cut() -> None:
    assert cell("a\x1b[2J\nb\u202ec") == "a [2J b c"
    assert cell("abcdef", 4) == "abc…"
    assert cell(None) == "--" and cell("") == "--"


def test_sparkline_scales_to_the_largest() -> None:
    assert sparkline([0, 1, 2, 4, 8]) == " ▁▂▄█"
    assert sparkline([0, 0]) == "  " and sparkline([]) == ""


ISSUE = {
    "id": 7,
    "level": "error",
    "status": "unresolved",
    "regressed": True,
    "count": 12,
    "users": 3,
    "last_seen": NOW - 30,
    "first_seen": NOW - 7200,
    "project": "api",
    "series": [0, 1],
    "title": "KeyError: 'user'\x1b[31m",
}


def test_issues_table() -> None:
    lines = issues_table({"issues": [ISSUE]}, NOW).splitlines()
    assert lines[0].split() == [
        "ID", "LEVEL", "STATUS", "EVENTS", "USERS", "LAST", "SEEN", "FIRST", "SEEN", "PROJECT",
        "TREND", "TITLE",
    ]  # fmt: skip
    row = lines[2]
    assert row.split()[:6] == ["7", "error", "unresolved", "(regressed)", "12", "3"]
    assert "30s ago" in row and "2h ago" in row and row.endswith("KeyError: 'user' [31m")
    assert issues_table({"issues": []}, NOW) == "No issues match."


def test_traces_table() -> None:
    trace = {
        "trace_id": "a" * 32,
        "transaction": "uploadDocument",
        "service": "frontend",
        "duration_ms": 12000.0,
        "status": "error",
        "user": "demo@test.com",
        "timestamp": NOW - 120,
    }
    lines = traces_table({"traces": [trace]}, NOW).splitlines()
    assert lines[0].split()[:3] == ["TRACE", "TRANSACTION", "SERVICE"]
    assert lines[2].split() == [
        "a" * 32, "uploadDocument", "frontend", "12.0s", "error", "demo@test.com", "2m", "ago",
    ]  # fmt: skip
    assert traces_table({"traces": []}, NOW) == "No traces match."


def test_regressions_table_shows_durations_for_p95_and_percentages_for_rates() -> None:
    answer = {
        "regressions": [
            {
                "transaction": "registerOnBlockchain",
                "service": "api",
                "metric": "p95",
                "before_ms": 2010.5,
                "after_ms": 12050.0,
                "change_pct": 499.4,
                "started_at": NOW - 47 * 60,
            },
            {
                "transaction": "checkout\x1b[2J",
                "service": "shop",
                "metric": "failure_rate",
                "before": 0.01,
                "after": 0.125,
                "change_pct": 1150.0,
                "started_at": NOW - 7200,
            },
        ]
    }
    header, _, p95, rate = regressions_table(answer, NOW).splitlines()
    assert header.split() == [
        "TRANSACTION", "SERVICE", "METRIC", "BEFORE", "AFTER", "CHANGE", "STARTED"
    ]  # fmt: skip
    assert p95.split() == ["registerOnBlockchain", "api", "p95", "2.0s", "12.1s", "+499%",
                           "47m", "ago"]  # fmt: skip
    assert rate.split() == ["checkout", "[2J", "shop", "failure_rate", "1.0%", "12.5%",
                            "+1150%", "2h", "ago"]  # fmt: skip
    assert regressions_table({"regressions": []}, NOW) == "No regressions in the period."


def test_impact_text_gives_totals_then_users_by_country_browser_and_os() -> None:
    answer = {
        "users": 1234,
        "transactions": 20.0,
        "by_country": {"US": 3, "DE": 1},
        "by_browser": {"Chrome": 4},
        "by_os": {},
    }
    assert impact_text(answer).splitlines() == [
        "Affected users        1,234",
        "Failing transactions  20",
        "",
        "COUNTRY  USERS",
        "───────  ─────",
        "US           3",
        "DE           1",
        "",
        "BROWSER  USERS",
        "───────  ─────",
        "Chrome       4",
    ]


def test_spans_table_lists_each_span() -> None:
    answer = {
        "spans": [
            {"trace_id": "ab" * 16, "op": "db.query", "description": "SELECT\n1",
             "transaction": "checkout", "service": "shop", "duration_ms": 12.5,
             "status": "ok", "start_timestamp": NOW - 90},
        ]
    }  # fmt: skip
    header, _, row = spans_table(answer, NOW).splitlines()
    assert header.split() == [
        "TRACE", "OP", "DESCRIPTION", "TRANSACTION", "SERVICE", "DURATION", "STATUS", "STARTED",
    ]  # fmt: skip
    assert row.split() == ["ab" * 16, "db.query", "SELECT", "1", "checkout", "shop", "12ms",
                           "ok", "1m", "ago"]  # fmt: skip
    assert spans_table({"spans": []}, NOW) == "No spans match."


def test_span_groups_table_has_a_column_per_key() -> None:
    answer = {
        "groups": [
            {"span.op": "db.query", "db": None, "count": 31.0, "samples": 4, "p50_ms": 150.0,
             "p95_ms": 285.0, "avg_ms": 152.5, "sum_ms": 6010.0, "failure_rate": 0.25},
            {"span.op": "http", "db": "pg", "count": 2.5, "samples": 1, "p50_ms": 1.0,
             "p95_ms": 1.0, "avg_ms": 1.0, "sum_ms": 1.0, "failure_rate": 0.0},
        ]
    }  # fmt: skip
    header, _, first, second = span_groups_table(answer, ["span.op", "db"]).splitlines()
    assert header.split() == [
        "SPAN.OP", "DB", "COUNT", "SAMPLES", "P50", "P95", "AVG", "TOTAL", "FAILURE", "RATE",
    ]  # fmt: skip
    assert first.split()[:4] == ["db.query", "--", "31", "4"]
    assert first.split()[-1] == "25.0%"
    assert second.split()[:3] == ["http", "pg", "2.5"]
    assert span_groups_table({"groups": []}, ["span.op"]) == "No spans match."
