"""The writer's hold on child spans whose segment has not come yet."""

from __future__ import annotations

from typing import Any

from glasspane.store.findings import WaitingChildren, performance_events
from glasspane.store.rows import SPAN_COLUMNS

COL = {name: i for i, name in enumerate(SPAN_COLUMNS)}


def row(trace: str, span_id: str, segment: str, **fields: Any) -> tuple[Any, ...]:
    values: list[Any] = [None] * len(SPAN_COLUMNS)
    start = fields.pop("start", 1000.0)
    ms = fields.pop("ms", 20.0)
    values[COL["project_id"]] = 1
    values[COL["trace_id"]] = trace
    values[COL["span_id"]] = span_id
    values[COL["segment_id"]] = segment
    values[COL["parent_span_id"]] = None if span_id == segment else segment
    values[COL["is_segment"]] = span_id == segment
    values[COL["transaction"]] = "GET /cases"
    values[COL["start_ts"]] = start
    values[COL["end_ts"]] = start + ms / 1000
    values[COL["duration_ms"]] = ms
    values[COL["op"]] = fields.pop("op", "db")
    values[COL["description"]] = fields.pop("description", "SELECT 1")
    return tuple(values)


def n_plus_one(trace: str, segment: str) -> list[tuple[Any, ...]]:
    children = [row(trace, "s0", segment, description="SELECT id FROM docs", ms=5)]
    children += [
        row(
            trace,
            f"r{i}",
            segment,
            description=f"SELECT * FROM p WHERE d = {i}",
            start=1000.01 + i * 0.025,
        )
        for i in range(6)
    ]
    return children


def segment_row(trace: str, segment: str) -> tuple[Any, ...]:
    return row(trace, segment, segment, op="http.server", description="GET /cases", ms=400)


def test_children_held_then_joined_to_their_segment() -> None:
    waiting = WaitingChildren()
    children = n_plus_one("t1", "seg")
    assert performance_events(children[:4], 1.0, waiting=waiting) == []
    assert performance_events(children[4:], 2.0, waiting=waiting) == []
    assert len(waiting) == 7
    [event] = performance_events([segment_row("t1", "seg")], 3.0, waiting=waiting)
    assert event.evidence["repeated"] == 6
    assert len(waiting) == 0


def test_without_the_hold_a_split_transaction_is_missed() -> None:
    children = n_plus_one("t1", "seg")
    assert performance_events(children, 1.0) == []
    assert performance_events([segment_row("t1", "seg")], 2.0) == []


def test_a_whole_transaction_is_not_held() -> None:
    waiting = WaitingChildren()
    [event] = performance_events(
        [*n_plus_one("t1", "seg"), segment_row("t1", "seg")], 1.0, waiting=waiting
    )
    assert event.evidence["repeated"] == 6
    assert len(waiting) == 0


def test_a_retried_group_does_not_count_its_children_twice() -> None:
    waiting = WaitingChildren()
    children = n_plus_one("t1", "seg")
    performance_events(children, 1.0, waiting=waiting)
    performance_events(children, 2.0, waiting=waiting)  # the same group, written again
    [event] = performance_events([segment_row("t1", "seg")], 3.0, waiting=waiting)
    assert event.evidence["repeated"] == 6


def test_old_children_are_dropped() -> None:
    waiting = WaitingChildren(max_seconds=60)
    waiting.hold((1, "t1", "a"), [row("t1", "x", "a")], now=0.0)
    waiting.hold((1, "t2", "b"), [row("t2", "y", "b")], now=50.0)
    waiting.hold((1, "t3", "c"), [row("t3", "z", "c")], now=90.0)  # "a" is 90 s old
    assert waiting.take((1, "t1", "a")) == []
    assert [r[COL["span_id"]] for r in waiting.take((1, "t2", "b"))] == ["y"]


def test_the_oldest_are_dropped_past_the_row_cap() -> None:
    waiting = WaitingChildren(max_rows=3)
    for i in range(5):
        waiting.hold((1, f"t{i}", "s"), [row(f"t{i}", "x", "s")], now=float(i))
    assert len(waiting) == 3
    assert waiting.take((1, "t0", "s")) == [] and waiting.take((1, "t1", "s")) == []
    assert len(waiting.take((1, "t4", "s"))) == 1
