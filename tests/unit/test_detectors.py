"""The performance detectors at their thresholds: tables of spans in, findings out."""

from __future__ import annotations

import pytest

from glasspane.detectors import SpanFacts, detect, mask_statement
from glasspane.detectors.db import n_plus_one_db_queries, slow_db_query

SOURCE = "SELECT id FROM documents WHERE case_id = 7"
REPEATED = "SELECT * FROM pages WHERE document_id = {}"


def _span(i: int, description: str, start_ms: float, ms: float, op: str = "db") -> SpanFacts:
    return SpanFacts(
        f"s{i:02d}", "parent", op, description, ms, start_ms / 1000, (start_ms + ms) / 1000
    )


def _n_plus_one(repeats: int, each_ms: float, source: bool = True) -> list[SpanFacts]:
    spans = [_span(0, SOURCE, 0, 5)] if source else []
    spans += [
        _span(i, REPEATED.format(i * 13), 10 + i * 20, each_ms) for i in range(1, repeats + 1)
    ]
    return spans


@pytest.mark.parametrize(
    ("statement", "masked"),
    [
        ("SELECT * FROM t WHERE id = 42", "SELECT * FROM t WHERE id = ?"),
        (
            "SELECT * FROM t WHERE name = 'ann' AND x = 1.5e3",
            "SELECT * FROM t WHERE name = ? AND x = ?",
        ),
        ("SELECT * FROM t WHERE id IN (1, 2, 3)", "SELECT * FROM t WHERE id IN (?)"),
        ("SELECT *\n  FROM t1 WHERE a = $1 AND b = %s", "SELECT * FROM t1 WHERE a = ? AND b = ?"),
        ("UPDATE t SET v = %(v)s WHERE h = 0xFF", "UPDATE t SET v = ? WHERE h = ?"),
        (
            "SELECT pages.id FROM pages WHERE pages.document_id = ?",
            "SELECT pages.id FROM pages WHERE pages.document_id = ?",
        ),
    ],
)
def test_statements_are_masked(statement: str, masked: str) -> None:
    assert mask_statement(statement) == masked


def test_five_repeats_of_ten_ms_after_a_source_query_are_an_n_plus_one() -> None:
    [finding] = n_plus_one_db_queries(_n_plus_one(5, 10))
    assert finding.type == "n_plus_one_db_queries"
    assert finding.statement == "SELECT * FROM pages WHERE document_id = ?"
    assert finding.span_ids == ("s01", "s02", "s03", "s04", "s05")
    assert finding.repeated == 5
    assert finding.duration_ms == pytest.approx(50)


@pytest.mark.parametrize(
    ("repeats", "each_ms", "source"),
    [
        (4, 20, True),  # one repeat short
        (5, 9.9, True),  # 49.5 ms in all: under 50 ms
        (10, 10, False),  # no source query before the repeats
    ],
)
def test_just_under_a_threshold_is_no_n_plus_one(
    repeats: int, each_ms: float, source: bool
) -> None:
    assert n_plus_one_db_queries(_n_plus_one(repeats, each_ms, source)) == []


def test_overlapping_or_interrupted_queries_break_the_run() -> None:
    spans = _n_plus_one(6, 10)
    overlapping = [
        *spans[:3],
        _span(3, REPEATED.format(3), spans[2].start * 1000 + 1, 10),
        *spans[4:],
    ]
    assert n_plus_one_db_queries(overlapping) == []
    interrupted = [*spans[:4], _span(9, "SELECT 1 FROM other", 65, 1), *spans[4:]]
    assert n_plus_one_db_queries(interrupted) == []


def test_truncated_statements_and_other_ops_are_not_queries() -> None:
    truncated = [
        _span(i, s.description + " AND ...", s.start * 1000, 10)
        for i, s in enumerate(_n_plus_one(6, 10))
    ]
    assert n_plus_one_db_queries(truncated) == []
    http = [
        _span(i, s.description or "", s.start * 1000, 10, op="http.client")
        for i, s in enumerate(_n_plus_one(6, 10))
    ]
    assert detect(http) == []


def test_a_query_slower_than_500_ms_is_slow() -> None:
    spans = [_span(1, "SELECT * FROM big WHERE x = 3", 0, 500.5), _span(2, "SELECT 2", 600, 500)]
    [finding] = slow_db_query(spans)
    assert (finding.type, finding.statement, finding.span_ids) == (
        "slow_db_query",
        "SELECT * FROM big WHERE x = ?",
        ("s01",),
    )
    assert finding.duration_ms == pytest.approx(500.5)


def test_detect_runs_every_detector_in_start_order() -> None:
    spans = list(reversed(_n_plus_one(5, 15)))
    assert sorted(f.type for f in detect(spans)) == ["n_plus_one_db_queries"]
    assert [f.type for f in detect([*spans, _span(50, SOURCE, 900, 700)])] == [
        "n_plus_one_db_queries",
        "slow_db_query",
    ]


def test_a_slow_source_query_does_not_count_toward_the_run() -> None:
    spans = _n_plus_one(5, 10)
    slow_source = [_span(0, SOURCE, -200, 195), *spans[1:]]
    [finding] = n_plus_one_db_queries(slow_source)
    assert finding.repeated == 5 and finding.duration_ms == pytest.approx(50)
    short = [_span(0, SOURCE, -200, 195), *_n_plus_one(5, 9.9, source=False)]
    assert n_plus_one_db_queries(short) == []
