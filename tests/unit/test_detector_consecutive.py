"""``consecutive_db_queries`` at its thresholds (Sentry's defaults)."""

from __future__ import annotations

import pytest

from glasspane.detectors import SpanFacts, detect
from glasspane.detectors.db import consecutive_db_queries

FIRST = "SELECT id FROM cases WHERE id = %s"


def _query(i: int, statement: str, start_ms: float, ms: float, parent: str = "p") -> SpanFacts:
    return SpanFacts(
        f"q{i:02d}", parent, "db", statement, ms, start_ms / 1000, (start_ms + ms) / 1000
    )


def _sequence(*durations: float, statements: tuple[str, ...] = ()) -> list[SpanFacts]:
    """A first, dependent query of 10 ms, then independent ones one after another."""
    spans = [_query(0, FIRST, 0, 10)]
    start = 10.0
    for i, ms in enumerate(durations, start=1):
        statement = statements[i - 1] if statements else f"SELECT * FROM table_{i}"
        spans.append(_query(i, statement, start, ms))
        start += ms
    return spans


def test_three_independent_selects_after_a_first_query_could_run_in_parallel() -> None:
    [finding] = consecutive_db_queries(_sequence(60, 70, 80))
    assert finding.type == "consecutive_db_queries"
    assert finding.title == "Consecutive DB Queries"
    assert (
        finding.statement == "SELECT * FROM table_1; SELECT * FROM table_2; SELECT * FROM table_3"
    )
    assert finding.span_ids == ("q00", "q01", "q02", "q03")
    assert finding.repeated == 3
    # 220 ms in sequence; in parallel max(10 dependent, 80 longest) = 80: saves 140.
    assert finding.duration_ms == pytest.approx(140)


@pytest.mark.parametrize(("each_ms", "found"), [(89.9, False), (90, True)])
def test_just_under_100_ms_saved_is_no_finding(each_ms: float, found: bool) -> None:
    # 10 + 2 x each in sequence, max(10, each) in parallel: saves 10 + each.
    assert (consecutive_db_queries(_sequence(each_ms, each_ms)) != []) is found


def test_each_parallel_query_must_take_30_ms() -> None:
    # Five independent queries of 29.9 ms: none may count.
    assert consecutive_db_queries(_sequence(29.9, 29.9, 29.9, 29.9, 29.9, 29.9)) == []
    assert len(consecutive_db_queries(_sequence(30, 30, 30, 30, 30, 30))) == 1


def test_the_time_saved_must_be_a_tenth_of_the_sequence() -> None:
    # A dependent chain of 1500 ms (three WHERE queries) and two independent 60 ms
    # ones: 1620 ms, in parallel max(1500, 60): saves 120 ms, 7 %: not enough.
    slow = "SELECT * FROM pages WHERE document_id = %s"
    spans = _sequence(
        500, 500, 500, 60, 60, statements=(slow, slow, slow, "SELECT * FROM a", "SELECT * FROM b")
    )
    assert consecutive_db_queries(spans) == []
    assert (
        consecutive_db_queries(
            spans,
            limits={"min_time_saved_ms": 100, "min_time_saved_ratio": 0.05, "min_span_ms": 30},
        )
        != []
    )


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM t WHERE id = 3",  # a WHERE clause
        "SELECT * FROM t LIMIT %s",  # a parameter
        "SELECT * FROM t LIMIT ?",
        "UPDATE t SET x = 1",  # not a SELECT
    ],
)
def test_dependent_queries_are_not_parallelizable(statement: str) -> None:
    assert consecutive_db_queries(_sequence(80, 80, 80, statements=(statement,) * 3)) == []


def test_overlapping_queries_or_other_parents_break_the_sequence() -> None:
    spans = _sequence(60, 70, 80)
    overlapping = [*spans[:2], _query(2, "SELECT * FROM table_2", 50, 70), spans[3]]
    assert consecutive_db_queries(overlapping) == []
    apart = [
        spans[0],
        spans[1],
        *(
            _query(i, s.description or "", s.start * 1000, s.duration_ms, "other")
            for i, s in enumerate(spans[2:], 2)
        ),
    ]
    assert consecutive_db_queries(apart) == []


def test_the_first_query_of_a_sequence_is_never_parallelizable() -> None:
    spans = _sequence(60, 70, 80)[1:]  # starts with SELECT * FROM table_1
    [finding] = detect(spans)
    assert finding.span_ids == ("q01", "q02", "q03") and finding.repeated == 2
    # 210 ms in sequence, max(60 dependent, 80 longest) in parallel: saves 130.
    assert finding.duration_ms == pytest.approx(130)
