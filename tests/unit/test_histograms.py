"""Histogram points → increments → per-bucket aggregates and percentiles."""

from __future__ import annotations

import pytest

from glasspane.store.histograms import HistogramRow, fold, increments, quantile

BOUNDS = (0.0, 50.0, 100.0)


def row(
    ts: float,
    counts: tuple[int, ...],
    total: float,
    cumulative: bool = True,
    series: str = "a",
    group: str | None = None,
    bounds: tuple[float, ...] = BOUNDS,
) -> HistogramRow:
    return HistogramRow(
        ts, group, series, sum(counts), total, 1.0, 200.0, bounds, counts, cumulative
    )


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (0.5, 50.0),  # rank 2 of 4: the end of (0, 50]
        (0.25, 25.0),  # halfway through (0, 50]
        (0.75, 75.0),  # halfway through (50, 100]
        (1.0, 100.0),
    ],
)
def test_quantile_interpolates_within_the_bucket(q: float, expected: float) -> None:
    assert quantile(BOUNDS, [0, 2, 2, 0], q) == pytest.approx(expected)


def test_open_buckets_end_at_the_extremes() -> None:
    # Everything above 100: (100, max=300]; rank 1 of 2 is halfway.
    assert quantile(BOUNDS, [0, 0, 0, 2], 0.5, low=120.0, high=300.0) == pytest.approx(200.0)
    # Without a known max the open bucket collapses onto its bound.
    assert quantile(BOUNDS, [0, 0, 0, 2], 0.5) == 100.0
    # Everything at or below 0, min -10: (-10, 0].
    assert quantile(BOUNDS, [4, 0, 0, 0], 0.5, low=-10.0, high=0.0) == pytest.approx(-5.0)


def test_results_stay_within_known_extremes() -> None:
    assert quantile(BOUNDS, [0, 4, 0, 0], 0.95, low=10.0, high=20.0) == 20.0
    assert quantile(BOUNDS, [0, 4, 0, 0], 0.0, low=10.0, high=20.0) == 10.0


def test_empty_histogram_has_no_quantile() -> None:
    assert quantile(BOUNDS, [0, 0, 0, 0], 0.5) is None
    assert quantile((), [3], 0.5) is None


def test_cumulative_points_become_increments_per_series() -> None:
    rows = [
        row(10, (0, 1, 0, 0), 20.0),
        row(11, (0, 5, 0, 0), 200.0, series="b"),
        row(20, (0, 1, 2, 0), 170.0),  # +2 in (50, 100]
        row(30, (0, 1, 2, 0), 170.0),  # exported again: adds nothing
        row(40, (1, 0, 0, 0), 0.0),  # count went down: the process restarted
        row(50, (0, 3, 0, 0), 30.0, cumulative=False),  # delta: as it is
    ]
    out = increments(rows)
    assert [(r.timestamp, r.count, r.total, r.counts) for r in out] == [
        (10, 1, 20.0, (0, 1, 0, 0)),
        (11, 5, 200.0, (0, 5, 0, 0)),
        (20, 2, 150.0, (0, 0, 2, 0)),
        (30, 0, 0.0, (0, 0, 0, 0)),
        (40, 1, 0.0, (1, 0, 0, 0)),
        (50, 3, 30.0, (0, 3, 0, 0)),
    ]
    assert out[2].min is None and out[2].max is None  # unknown for an increment
    assert out[0].min == 1.0  # a series' first point is its own increment


def test_changed_bounds_start_over() -> None:
    out = increments([row(10, (0, 1, 0, 0), 20.0), row(20, (0, 2, 0), 40.0, bounds=(0, 50))])
    assert out[1].count == 2


def test_fold_sums_increments_per_bucket_and_group_within_the_window() -> None:
    rows = [
        row(5, (0, 1, 0, 0), 20.0),  # before the window: only a baseline
        row(15, (0, 3, 0, 0), 80.0),  # +2 in bucket 0
        row(25, (0, 3, 2, 0), 230.0),  # +2 in bucket 1
        row(26, (0, 0, 1, 0), 60.0, cumulative=False, group="x"),
        row(45, (0, 9, 9, 0), 999.0, cumulative=False),  # after the window
    ]
    folded = fold(rows, start=10.0, end=30.0, interval=10.0)
    assert set(folded) == {(0, None), (1, None), (1, "x")}
    first = folded[(0, None)]
    assert (first.count, first.total, first.counts) == (2, 60.0, [0, 2, 0, 0])
    assert first.quantile(0.5) == pytest.approx(25.0)
    second = folded[(1, None)]
    assert (second.count, second.total, second.counts) == (2, 150.0, [0, 0, 2, 0])
    assert folded[(1, "x")].count == 1


def test_mixed_bounds_have_no_percentiles() -> None:
    rows = [
        row(1, (0, 1, 0, 0), 20.0, cumulative=False),
        row(2, (0, 1, 0), 20.0, cumulative=False, bounds=(0.0, 50.0)),
    ]
    [folded] = fold(rows, 0.0, 10.0, 10.0).values()
    assert folded.count == 2 and folded.quantile(0.5) is None
