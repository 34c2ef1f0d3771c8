"""Sustained-regression detection, on seeded synthetic traffic (docs/semantics.md "Regressions")."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable

import pytest

from glasspane.query.regressions import (
    FAILURE_RATE,
    P95,
    Regression,
    Sample,
    find_regressions,
    percentile,
)

START = 1_763_240_000.0
BUCKETS = 60
WIDTH = 60.0  # one-hour period, one-minute buckets
END = START + BUCKETS * WIDTH
Z95 = statistics.NormalDist().inv_cdf(0.95)

Shape = Callable[[float], float]  # minute into the period -> p95 in ms, or a failure rate


def constant(value: float) -> Shape:
    return lambda minute: value


TWO_SECONDS = constant(2000.0)
TWO_PERCENT = constant(0.02)


def step(before: float, after: float, at: float) -> Shape:
    return lambda minute: after if minute >= at else before


def spike(normal: float, high: float, start: float, stop: float) -> Shape:
    return lambda minute: high if start <= minute < stop else normal


def traffic(
    seed: int,
    *,
    per_bucket: int = 40,
    sigma: float = 0.6,
    p95_ms: Shape = TWO_SECONDS,
    failure_rate: Shape = TWO_PERCENT,
) -> list[Sample]:
    """``per_bucket`` samples in every minute; lognormal durations with the given p95."""
    rng = random.Random(seed)
    samples = []
    for bucket in range(BUCKETS):
        for _ in range(per_bucket):
            minute = bucket + rng.random()
            median = p95_ms(minute) / math.exp(Z95 * sigma)
            duration = rng.lognormvariate(math.log(median), sigma)
            failed = rng.random() < failure_rate(minute)
            samples.append(Sample(START + minute * WIDTH, duration, failed))
    return samples


def rows(samples: list[Sample]) -> dict[str, Regression]:
    found = find_regressions(samples, START, END)
    assert len({r.metric for r in found}) == len(found)
    return {r.metric: r for r in found}


def reference_p95(values: list[float]) -> float:
    """p95 by the standard library's inclusive method: numpy's linear interpolation."""
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def test_percentile_interpolates_between_order_statistics() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.95) == pytest.approx(4.8)
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([1.0, 3.0], 0.0) == 1.0
    assert percentile([1.0, 3.0], 1.0) == 3.0
    rng = random.Random(1)
    for size in (2, 3, 19, 20, 21, 137):
        values = sorted(rng.lognormvariate(7, 1) for _ in range(size))
        assert percentile(values, 0.95) == pytest.approx(reference_p95(values), rel=1e-12)
    with pytest.raises(ValueError):
        percentile([], 0.95)


@pytest.mark.parametrize(
    ("per_bucket", "sigma", "rate", "seeds"),
    [(40, 0.6, 0.02, 30), (5, 0.6, 0.02, 30), (40, 0.3, 0.01, 10), (100, 0.6, 0.10, 4)],
)
def test_stable_noisy_traffic_reports_nothing(
    per_bucket: int, sigma: float, rate: float, seeds: int
) -> None:
    for seed in range(seeds):
        samples = traffic(seed, per_bucket=per_bucket, sigma=sigma, failure_rate=constant(rate))
        assert rows(samples) == {}, f"seed {seed}"


@pytest.mark.parametrize("at", [1, 5, 30, 55, 59])
def test_p95_step_is_found_where_it_happened(at: int) -> None:
    # 40 samples a minute: 40 on the short side of the earliest and latest steps.
    for seed in range(3):
        found = rows(traffic(seed, p95_ms=step(2000.0, 12000.0, at)))
        assert set(found) == {P95}, f"seed {seed}"
        row = found[P95]
        assert abs(row.started_at - (START + at * WIDTH)) <= WIDTH
        assert 1400 < row.before < 2800 and 7000 < row.after < 20000
        assert row.change_pct == pytest.approx((row.after - row.before) / row.before * 100)


@pytest.mark.parametrize("at", [5, 30, 55, 58])
def test_failure_rate_step_is_found_where_it_happened(at: int) -> None:
    # 1% -> 12% needs ~200 samples a side at z >= 4 (a dozen failures), hence 100 a minute.
    for seed in range(3):
        found = rows(traffic(seed, per_bucket=100, failure_rate=step(0.01, 0.12, at)))
        assert set(found) == {FAILURE_RATE}, f"seed {seed}"
        row = found[FAILURE_RATE]
        assert abs(row.started_at - (START + at * WIDTH)) <= WIDTH
        assert 0.0 < row.before < 0.02 and 0.06 < row.after < 0.2


def test_clean_step_has_exact_values() -> None:
    samples = [
        Sample(START + second, 2000.0 if second < 20 * WIDTH else 12000.0, False)
        for second in range(0, int(END - START), 10)
    ]
    assert find_regressions(samples, START, END) == [
        Regression(P95, 2000.0, 12000.0, 500.0, START + 20 * WIDTH)
    ]


def test_before_and_after_are_exact_over_each_side() -> None:
    samples = traffic(
        7, p95_ms=step(2000.0, 12000.0, 24), failure_rate=step(0.02, 0.25, 24), per_bucket=60
    )
    found = rows(samples)
    assert set(found) == {P95, FAILURE_RATE}
    cut = START + 24 * WIDTH
    p95 = found[P95]
    assert abs(p95.started_at - cut) <= WIDTH / 10  # located sample by sample
    before = [s for s in samples if s.timestamp < p95.started_at]
    after = [s for s in samples if s.timestamp >= p95.started_at]
    assert p95.before == pytest.approx(reference_p95([s.duration_ms for s in before]), rel=1e-12)
    assert p95.after == pytest.approx(reference_p95([s.duration_ms for s in after]), rel=1e-12)
    assert p95.change_pct == pytest.approx((p95.after - p95.before) / p95.before * 100)
    rate = found[FAILURE_RATE]
    assert abs(rate.started_at - cut) <= WIDTH / 2
    before = [s for s in samples if s.timestamp < rate.started_at]
    after = [s for s in samples if s.timestamp >= rate.started_at]
    assert rate.before == sum(s.failed for s in before) / len(before)
    assert rate.after == sum(s.failed for s in after) / len(after)
    assert rate.change_pct == pytest.approx((rate.after - rate.before) / rate.before * 100)


@pytest.mark.parametrize(
    "shape",
    [
        {"p95_ms": spike(2000.0, 12000.0, 20, 35)},
        {"p95_ms": spike(2000.0, 12000.0, 50, 57)},  # over only three minutes before the end
        {"failure_rate": spike(0.01, 0.12, 20, 35), "per_bucket": 100},
        {"failure_rate": spike(0.01, 0.12, 40, 52), "per_bucket": 100},
    ],
)
def test_spike_that_ends_before_the_period_is_not_reported(shape: dict) -> None:
    for seed in range(2):
        assert rows(traffic(seed, **shape)) == {}, f"seed {seed}"


def test_an_earlier_spike_does_not_hide_a_later_sustained_step() -> None:
    def shape(minute: float) -> float:
        return 12000.0 if 10 <= minute < 12 or minute >= 45 else 2000.0

    for seed in range(3):
        row = rows(traffic(seed, p95_ms=shape))[P95]
        assert abs(row.started_at - (START + 45 * WIDTH)) <= WIDTH


def test_a_dip_back_to_normal_in_the_middle_is_not_sustained() -> None:
    # High over 20-35 and 45-60: from 20 it did not stay; from 45 the minutes before
    # it already include the high stretch, so its p95 did not rise 1.5x. No row.
    def shape(minute: float) -> float:
        return 2000.0 if minute < 20 or 35 <= minute < 45 else 12000.0

    for seed in range(3):
        assert rows(traffic(seed, p95_ms=shape)) == {}, f"seed {seed}"


def test_gradual_ramp_is_at_most_one_rise() -> None:
    for seed in range(3):
        found = rows(traffic(seed, p95_ms=lambda minute: 1000.0 + 100.0 * minute))
        assert set(found) <= {P95}
        for row in found.values():
            assert START < row.started_at < END and row.after >= 1.5 * row.before


def test_too_few_samples_report_nothing() -> None:
    samples = [Sample(START + i * 60.0, 2000.0 if i < 30 else 12000.0, i >= 30) for i in range(59)]
    assert find_regressions(samples, START, END) == []
    assert find_regressions(samples * 2, START, END) != []  # the same shape, with enough


def test_identical_durations_report_nothing() -> None:
    samples = [Sample(START + i * 3.0, 250.0, False) for i in range(1200)]
    assert find_regressions(samples, START, END) == []


def test_a_before_of_zero_gives_no_row_and_no_division_by_zero() -> None:
    # change_pct would be infinite: not a number JSON carries or a sort can rank.
    samples = [Sample(START + i * 3.0, 0.0 if i < 600 else 500.0, i >= 600) for i in range(1200)]
    assert find_regressions(samples, START, END) == []


def test_a_handful_of_failures_is_not_a_regression() -> None:
    # 1 failure in 3000, then 2 in the last 60: 33x, but no evidence at z >= 4.
    samples = [Sample(START + i, 100.0, i in (1000, 3550, 3590)) for i in range(3600)]
    assert find_regressions(samples, START, END) == []


def test_a_failure_rate_rise_under_one_point_is_not_a_regression() -> None:
    # 0.2% -> 0.6% over 9000 samples a side: significant and 3x, but 0.4 points.
    samples = [
        Sample(START + i * 0.2, 100.0, i % (500 if i < 9_000 else 167) == 0) for i in range(18_000)
    ]
    assert find_regressions(samples, START, END) == []


def test_order_and_samples_outside_the_period_do_not_matter() -> None:
    samples = traffic(3, p95_ms=step(2000.0, 12000.0, 40))
    noisy = [*samples, Sample(START - 1.0, 1.0, True), Sample(END, 1e9, True)]
    random.Random(0).shuffle(noisy)
    assert find_regressions(noisy, START, END) == find_regressions(samples, START, END) != []


def test_empty_buckets_put_the_change_just_before_the_first_slow_sample() -> None:
    fast = [Sample(START + i * 6.0, 2000.0, False) for i in range(200)]  # minutes 0-19
    slow = [Sample(START + 1800.0 + i * 6.0, 12000.0, False) for i in range(300)]  # 30-59
    (row,) = find_regressions(fast + slow, START, END)
    assert row.started_at == START + 30 * WIDTH


@pytest.mark.parametrize(
    "arguments",
    [
        {"end": START},
        {"buckets": 1},
        {"min_samples": 0},
        {"factor": 1.0},
    ],
)
def test_arguments_that_cannot_be_searched_are_rejected(arguments: dict) -> None:
    call = {"start": START, "end": END, **arguments}
    with pytest.raises(ValueError):
        find_regressions([], **call)
