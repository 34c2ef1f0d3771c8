"""Aligning two traces (pure): spans paired by service, op and description in the
order the waterfall draws them, the nth of a kind with the nth."""

from __future__ import annotations

from typing import Any

from glasspane.query.trace_compare import align


def span(
    span_id: str, parent: str | None, op: str, description: str, start: float, ms: float
) -> dict[str, Any]:
    return {
        "span_id": span_id,
        "parent_span_id": parent,
        "service": "shop",
        "op": op,
        "description": description,
        "start_timestamp": 100.0 + start,
        "timestamp": 100.0 + start + ms / 1000,
        "duration_ms": ms,
        "status": "ok",
    }


def trace(*spans: dict[str, Any]) -> dict[str, Any]:
    return {"start_timestamp": 100.0, "spans": list(spans)}


A = trace(
    span("r", None, "http.server", "POST /order", 0, 300),
    span("q2", "r", "db", "SELECT item", 0.1, 20),  # listed out of order: drawn by start
    span("q1", "r", "db", "SELECT item", 0.01, 10),
    span("p", "r", "http.client", "GET /price", 0.2, 50),
)
B = trace(
    span("R", None, "http.server", "POST /order", 0, 900),
    span("Q1", "R", "db", "SELECT item", 0.01, 100),
    span("C", "R", "cache.get", "item:1", 0.05, 5),
    span("Q2", "R", "db", "SELECT item", 0.1, 200),
    span("Q3", "R", "db", "SELECT item", 0.3, 30),
)


def table(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    def ms(side: dict[str, Any] | None) -> float | None:
        return side["duration_ms"] if side else None

    return [(r["description"], r["depth"], r["presence"], ms(r["a"]), ms(r["b"])) for r in rows]


def test_spans_pair_in_order_and_the_unpaired_stand_where_they_ran() -> None:
    rows = align(A, B)
    assert table(rows) == [
        ("POST /order", 0, "both", 300, 900),
        ("SELECT item", 1, "both", 10, 100),
        ("item:1", 1, "b", None, 5),  # after its b predecessor, the first query
        ("SELECT item", 1, "both", 20, 200),
        ("SELECT item", 1, "b", None, 30),
        ("GET /price", 1, "a", 50, None),
    ]
    assert [r["diff_ms"] for r in rows] == [600, 90, None, 180, None, None]
    assert rows[1]["a"]["span_id"] == "q1" and rows[1]["b"]["span_id"] == "Q1"
    assert rows[3]["b"]["offset_ms"] == 100.0


def test_a_trace_against_itself_pairs_every_span() -> None:
    rows = align(A, A)
    assert {r["presence"] for r in rows} == {"both"} and {r["diff_ms"] for r in rows} == {0}


def test_an_unpaired_first_span_of_b_comes_first() -> None:
    rows = align(trace(span("x", None, "a", "x", 0, 1)), trace(span("y", None, "b", "y", 0, 1)))
    assert [(r["op"], r["presence"]) for r in rows] == [("b", "b"), ("a", "a")]
    only_b = trace(span("z", None, "z", "z", 0, 1), span("x", None, "a", "x", 0.1, 1))
    rows = align(trace(span("x", None, "a", "x", 0, 1)), only_b)
    assert [(r["op"], r["presence"]) for r in rows] == [("z", "b"), ("a", "both")]
