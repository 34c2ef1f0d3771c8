"""A project's detector thresholds: validated, merged over the defaults, applied."""

from __future__ import annotations

import pytest

from glasspane.detectors import DEFAULTS, SpanFacts, detect
from glasspane.detectors.thresholds import limits, validate


def _n_plus_one(repeats: int) -> list[SpanFacts]:
    spans = [SpanFacts("s00", "p", "db", "SELECT id FROM documents", 5, 0, 0.005)]
    spans += [
        SpanFacts(
            f"s{i:02d}", "p", "db", f"SELECT * FROM pages WHERE id = {i}", 20, i / 10, i / 10 + 0.02
        )
        for i in range(1, repeats + 1)
    ]
    return spans


def test_a_project_with_min_repeats_3_finds_an_n_plus_one_of_3() -> None:
    assert detect(_n_plus_one(3)) == []
    own = validate({"n_plus_one_db_queries": {"min_repeats": 3}})
    [finding] = detect(_n_plus_one(3), thresholds=own)
    assert finding.type == "n_plus_one_db_queries" and finding.repeated == 3


def test_a_detector_switched_off_finds_nothing() -> None:
    own = validate({"n_plus_one_db_queries": {"enabled": False}})
    assert detect(_n_plus_one(8)) != []
    assert detect(_n_plus_one(8), thresholds=own) == []
    assert limits("n_plus_one_db_queries", own) is None
    assert limits("slow_db_query", own) == DEFAULTS["slow_db_query"]


def test_own_thresholds_merge_over_the_defaults() -> None:
    own = validate({"consecutive_db_queries": {"min_span_ms": 10, "enabled": True}})
    assert limits("consecutive_db_queries", own) == {
        "min_time_saved_ms": 100,
        "min_time_saved_ratio": 0.1,
        "min_span_ms": 10,
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "must be an object of detectors"),
        ({"n_plus_two": {}}, "unknown detector 'n_plus_two'"),
        ({"slow_db_query": 5}, "performance_thresholds.slow_db_query must be an object"),
        ({"slow_db_query": {"min_ms": 5}}, "slow_db_query.min_ms: unknown threshold"),
        ({"slow_db_query": {"min_duration_ms": "5"}}, "must be a number, not '5'"),
        ({"slow_db_query": {"min_duration_ms": -1}}, "must be from 0 to"),
        ({"slow_db_query": {"enabled": "no"}}, "enabled must be true or false"),
        ({"n_plus_one_db_queries": {"min_repeats": 2.5}}, "must be a whole number from 1"),
        ({"n_plus_one_db_queries": {"min_repeats": 0}}, "must be a whole number from 1"),
        ({"render_blocking_asset": {"min_fcp_ratio": 1.5}}, "is a fraction from 0 to 1"),
        ({"large_http_payload": {"min_size_bytes": True}}, "must be a number, not True"),
    ],
)
def test_bad_thresholds_are_refused_by_name(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match="performance_thresholds") as refused:
        validate(raw)
    assert message in str(refused.value)
