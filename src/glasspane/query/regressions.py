"""Sustained regressions of one transaction: its p95 latency or failure rate.

docs/semantics.md ("Regressions"): a row appears when, with at least
``min_samples`` samples on each side, the metric after a change point stays at
≥ ``factor`` × its value before it until the end of the period; ``started_at``
is that change point and ``change_pct`` = (after − before) / before × 100.
This module is pure: samples in, rows out, no I/O.

How a change point is found, per metric:

1. **Candidates** are the boundaries of ``buckets`` equal time buckets over
   [start, end) that leave ``min_samples`` samples on each side.
2. **Score.** Each candidate gets a z statistic for "higher after than before".
   Latency: the difference of mean log(1 + duration_ms) over the pooled
   variance of the whole window (a score test). Latency changes are
   multiplicative and durations are near lognormal, so the log mean moves
   with every quantile, is far steadier than a p95, and outliers cannot
   dominate it; the pooled variance keeps it finite on noise-free data (a
   clean step scores √n). Failures: the signed root of the binomial
   likelihood-ratio (G-test) statistic. At low rates the two-proportion
   z-test has a heavy upper tail (5 failures in 40 against 1% scores 6.6, for
   what happens once in 15 000 tries) and places steps worse; the likelihood
   ratio's best cut is the maximum-likelihood change point, and its root is
   close to normal.
3. **Rows** need ``z ≥ MIN_Z`` and the *reported* metric (p95, or the rate)
   to rise: after ≥ factor × before over the two sides, and for failure rates
   by at least ``MIN_FAILURE_RATE_RISE`` too (so 0.2% → 0.6% is no row, and
   a couple of failures is no evidence). MIN_Z is 4, not 3, because each
   candidate is the best of up to ``buckets − 1``. On stable traffic (2400
   samples an hour, 1-10% failures) z ≥ 3 gave a spurious failure-rate row in
   about 2% of periods, 3.5 in 0.5%, 4 in none of 2400; p95 rows at 4 came
   in 1 of 400 periods of 300 samples. The cost is evidence at the edges:
   1% → 12% needs 100-200 samples on the short side (a dozen failures or
   more); 2 s → 12 s is found with 40.
4. **Sustained.** The rise holds only if no stretch after it (between two
   bucket boundaries, ``min_samples`` or more, with as many outside it) is
   both significantly lower than the rest of the after-segment (z ≤ −MIN_Z)
   and back below factor × before. This drops spikes that end before the
   period does and dips back to normal, yet asks for evidence of a return:
   noise within a real step does not end it. For failure rates "below" is
   "not significantly above" (``LEVEL_Z``), since a short stretch cannot tell
   1% from 1.5%.
5. **Located sample by sample.** A bucket boundary can lie most of a bucket
   from the change (24 minutes in a 24 h period); the samples of the other
   side it takes in then set that side's p95 (2 s → 12 s thirty minutes ago
   read as 5.9 s → about 12 s from a boundary six minutes late). So the candidate
   moves to the split, between the boundaries on either side of it, that
   maximises the same statistic; for the log mean over a fixed window that is
   the maximum-likelihood single change of a normal mean. before/after and
   "sustained" are then computed from that split, and ``started_at`` is the
   first sample after it (or a bucket boundary just before that sample, when
   one lies between it and the sample before). Detection stays on the
   boundaries, so MIN_Z keeps its calibration for buckets − 1 tries.
6. Candidates are tried strongest first and the first that passes is the row,
   so an earlier transient cannot hide a later sustained step. If the best
   candidate's before is 0 (a p95 of 0 ms, or no failures), change_pct would
   be infinite, which JSON cannot carry and a sort cannot rank: no row, rather
   than a later cut that misplaces the start. Reporting those needs
   ``change_pct: float | None`` in the contract and its readers.

Roads not taken:

- *Per-chunk point estimates* for "sustained" (every chunk of ``min_samples``
  at ≥ factor × before): at 12% failures a 30-sample chunk has none 2% of
  the time, so with 20 chunks a third of real steps would be dropped.
- *Scanning p95 itself* for the change point: it needs many samples a side
  and jumps with single samples; the log mean finds the same step with less
  noise, and p95 is still what is reported and compared.
- *Rank statistics* (Mann-Whitney), PELT, binary segmentation: more general,
  but O(n log n) per candidate or a penalty to tune, for one change per
  metric and period, which is all the API shows.

Cost: one sort, O(buckets) candidates, and per candidate tried O(buckets²)
O(1) contrasts, O(samples in two buckets) to locate it, plus a p95 (a sort,
cached) for the stretches that dropped; about 5 ms for 2400 samples, and
0.4 s for 20 000 around a spike (the worst seen, where many candidates fail
"sustained").

Where empty buckets leave several boundaries between the same two samples,
the latest is used: the change started no later than the first sample after.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Protocol

P95 = "p95"
FAILURE_RATE = "failure_rate"
#: The z a rise (and a return from it) must reach; see the module docstring.
MIN_Z = 4.0
#: The least absolute rise of a failure rate that counts: one percentage point.
MIN_FAILURE_RATE_RISE = 0.01
#: How far above a threshold a failure rate must be, in standard errors, to count
#: as still above it when deciding whether a rise has ended.
LEVEL_Z = 2.0
_RATE_EPSILON = 1e-12  # 0.03 − 0.02 is 0.00999...; a rise of exactly 1 pp counts


@dataclass(frozen=True, slots=True)
class Sample:
    """One transaction event: when it started (epoch s), how long it took, if it failed."""

    timestamp: float
    duration_ms: float
    failed: bool


@dataclass(frozen=True, slots=True)
class Regression:
    """A sustained rise: ``before``/``after`` are p95 in ms or rates in [0, 1]."""

    metric: str
    before: float
    after: float
    change_pct: float
    started_at: float


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-quantile (0 ≤ q ≤ 1) of ascending values, interpolating linearly.

    The same as numpy's default method and DuckDB's ``quantile_cont``.
    Raises ValueError on an empty sequence.
    """
    if not sorted_values:
        raise ValueError("percentile of no values")
    position = (len(sorted_values) - 1) * q
    lo = math.floor(position)
    hi = min(lo + 1, len(sorted_values) - 1)
    low = sorted_values[lo]
    return low + (position - lo) * (sorted_values[hi] - low)


def find_regressions(
    samples: Sequence[Sample],
    start: float,
    end: float,
    buckets: int = 60,
    min_samples: int = 30,
    factor: float = 1.5,
) -> list[Regression]:
    """The sustained regressions of one transaction in [start, end).

    At most one row per metric, p95 first. Samples may come in any order;
    those outside the period or with a non-finite duration are ignored.
    Raises ValueError on a period or parameters that cannot be searched.
    """
    _check_arguments(start, end, buckets, min_samples, factor)
    window = sorted(
        (s for s in samples if start <= s.timestamp < end and math.isfinite(s.duration_ms)),
        key=lambda s: s.timestamp,
    )
    if len(window) < 2 * min_samples:
        return []
    timestamps = [s.timestamp for s in window]
    cuts = _cuts(timestamps, start, end, buckets)
    all_series: tuple[_Series, ...] = (_LatencySeries(window), _FailureSeries(window))
    found = (_find(series, timestamps, cuts, factor, min_samples) for series in all_series)
    return [row for row in found if row is not None]


def _check_arguments(
    start: float, end: float, buckets: int, min_samples: int, factor: float
) -> None:
    if not end > start:
        raise ValueError(f"regressions need end > start, got start={start} end={end}")
    if buckets < 2:
        raise ValueError(f"regressions need at least 2 buckets, got {buckets}")
    if min_samples < 1:
        raise ValueError(f"min_samples must be at least 1, got {min_samples}")
    if not factor > 1:
        raise ValueError(f"factor must be above 1, got {factor}")


Range = tuple[int, int]
"""Sample indices [lo, hi) into the time-ordered window."""


class _Series(Protocol):
    """One metric over the time-ordered window, as the change-point search sees it."""

    metric: str
    min_rise: float  # the least absolute rise that counts
    size: int  # samples in the window

    def contrast(self, inner: Range, outer: Range) -> float:
        """z for "inner is higher than the rest of outer": negative when lower, 0 when
        there is no telling. ``inner`` lies in ``outer`` and leaves samples outside it."""
        ...

    def level(self, lo: int, hi: int) -> float:
        """The reported metric over samples [lo, hi)."""
        ...

    def below(self, lo: int, hi: int, threshold: float) -> bool:
        """Whether samples [lo, hi) are back under ``threshold``, as far as noise allows."""
        ...


class _LatencySeries:
    """p95 in ms, located by the mean of log(1 + ms); negative durations count as 0."""

    metric = P95
    min_rise = 0.0

    def __init__(self, window: Sequence[Sample]) -> None:
        self._durations = [s.duration_ms for s in window]
        logs = [math.log1p(max(d, 0.0)) for d in self._durations]
        centre = statistics.median(logs)  # identical durations then sum to exactly 0
        self._sums = list(accumulate((x - centre for x in logs), initial=0.0))
        self._squares = list(accumulate(((x - centre) ** 2 for x in logs), initial=0.0))
        self.size = len(logs)
        self._p95: dict[Range, float] = {}

    def contrast(self, inner: Range, outer: Range) -> float:
        """Difference of log means over the pooled variance of all of ``outer``."""
        (a, b), (lo, hi) = inner, outer
        n_in, n_out = b - a, (hi - lo) - (b - a)
        sum_in = self._sums[b] - self._sums[a]
        sum_all = self._sums[hi] - self._sums[lo]
        variance = (self._squares[hi] - self._squares[lo]) / (hi - lo) - (sum_all / (hi - lo)) ** 2
        if variance <= 0:
            return 0.0
        difference = sum_in / n_in - (sum_all - sum_in) / n_out
        return difference / math.sqrt(variance * (1 / n_in + 1 / n_out))

    def level(self, lo: int, hi: int) -> float:
        # Cached: each candidate change point re-examines the same stretches.
        if (lo, hi) not in self._p95:
            self._p95[lo, hi] = percentile(sorted(self._durations[lo:hi]), 0.95)
        return self._p95[lo, hi]

    def below(self, lo: int, hi: int, threshold: float) -> bool:
        """The p95 itself: at ``min_samples`` or more it is steady enough against a
        1.5× threshold, and latency steps worth a row are large."""
        return self.level(lo, hi) < threshold


class _FailureSeries:
    """The failure rate, located by the binomial likelihood ratio."""

    metric = FAILURE_RATE
    min_rise = MIN_FAILURE_RATE_RISE

    def __init__(self, window: Sequence[Sample]) -> None:
        self._failures = list(accumulate((int(s.failed) for s in window), initial=0))
        self.size = len(window)

    def contrast(self, inner: Range, outer: Range) -> float:
        """Signed root of the likelihood-ratio (G-test) statistic of the two rates."""
        (a, b), (lo, hi) = inner, outer
        k_in, n_in = self._failures[b] - self._failures[a], b - a
        k_all, n_all = self._failures[hi] - self._failures[lo], hi - lo
        k_out, n_out = k_all - k_in, n_all - n_in
        statistic = 2 * (
            _log_likelihood(k_in, n_in)
            + _log_likelihood(k_out, n_out)
            - _log_likelihood(k_all, n_all)
        )
        root = math.sqrt(max(statistic, 0.0))
        return root if k_in * n_out >= k_out * n_in else -root

    def level(self, lo: int, hi: int) -> float:
        return (self._failures[hi] - self._failures[lo]) / (hi - lo)

    def below(self, lo: int, hi: int, threshold: float) -> bool:
        """Not significantly above ``threshold`` (one-sided z < LEVEL_Z): at 1%, 200
        samples show 3 failures or more a third of the time, above 1.5 × 1%."""
        spread = math.sqrt(max(threshold * (1 - threshold), 0.0) / (hi - lo))
        return self.level(lo, hi) < threshold + LEVEL_Z * spread


def _log_likelihood(failures: int, n: int) -> float:
    """Binomial log-likelihood of ``failures`` in ``n`` at their own rate (0 · log 0 = 0)."""
    return sum(c * math.log(c / n) for c in (failures, n - failures) if c)


def _cuts(
    timestamps: Sequence[float], start: float, end: float, buckets: int
) -> list[tuple[int, float]]:
    """Each bucket boundary as (index of the first sample at or after it, its time).

    Boundaries that fall between the same two samples keep the latest time.
    """
    width = (end - start) / buckets
    by_index: dict[int, float] = {}
    for k in range(1, buckets):
        boundary = start + k * width
        by_index[bisect_left(timestamps, boundary)] = boundary
    return sorted(by_index.items())


def _find(
    series: _Series,
    timestamps: Sequence[float],
    cuts: list[tuple[int, float]],
    factor: float,
    min_samples: int,
) -> Regression | None:
    """The strongest candidate that rises by ``factor`` and stays there, if any."""
    n = series.size
    for candidate, _ in _candidates(series, cuts, min_samples):
        index = _refine(series, timestamps, cuts, candidate, min_samples)
        time = _start_time(timestamps, cuts, index)
        before, after = series.level(0, index), series.level(index, n)
        if before == 0:
            return None  # no finite change_pct; a later cut would misplace the start
        if not _rises(before, after, factor, series.min_rise):
            continue
        edges = [index, *(i for i, _ in cuts if index < i < n), n]
        if _sustained(series, edges, factor * before, min_samples):
            change_pct = (after - before) / before * 100
            return Regression(series.metric, before, after, change_pct, time)
    return None


def _refine(
    series: _Series,
    timestamps: Sequence[float],
    cuts: list[tuple[int, float]],
    candidate: int,
    min_samples: int,
) -> int:
    """The best split between the cuts on either side of ``candidate``, sample by sample.

    A bucket boundary can be most of a bucket away from the change (24 minutes in a
    24 h period), and then one side holds samples of the other and its p95 with
    them. Only splits between distinct timestamps count; ties keep the earliest.
    """
    n = series.size
    indices = [index for index, _ in cuts]
    position = indices.index(candidate)
    lo = max(min_samples, indices[position - 1] if position else 0)
    hi = min(n - min_samples, indices[position + 1] if position + 1 < len(indices) else n)
    best, best_z = candidate, series.contrast((candidate, n), (0, n))
    for index in range(lo, hi + 1):
        if index == candidate or timestamps[index - 1] == timestamps[index]:
            continue
        z = series.contrast((index, n), (0, n))
        if z > best_z:
            best, best_z = index, z
    return best


def _start_time(timestamps: Sequence[float], cuts: list[tuple[int, float]], index: int) -> float:
    """When the change at split ``index`` started: the bucket boundary just before
    the first sample after it if one lies between the two samples, else that sample."""
    for cut_index, time in cuts:
        if cut_index == index and (index == 0 or timestamps[index - 1] < time):
            return time
    return timestamps[index]


def _candidates(
    series: _Series, cuts: list[tuple[int, float]], min_samples: int
) -> list[tuple[int, float]]:
    """Cuts with ``min_samples`` on each side and a significant rise, strongest first."""
    n = series.size
    scored = [
        (series.contrast((index, n), (0, n)), index, time)
        for index, time in cuts
        if min_samples <= index <= n - min_samples
    ]
    scored.sort(key=lambda candidate: -candidate[0])
    return [(index, time) for z, index, time in scored if z >= MIN_Z]


def _rises(before: float, after: float, factor: float, min_rise: float) -> bool:
    """Whether ``after`` is a rise from ``before`` (> 0) worth a row."""
    return after >= factor * before and after - before >= min_rise - _RATE_EPSILON


def _sustained(series: _Series, edges: list[int], threshold: float, min_samples: int) -> bool:
    """False when a stretch between two edges is significantly lower than the rest
    of [edges[0], edges[-1]) and back below ``threshold``.

    Stretches and the rest both need ``min_samples``; ``edges`` ascend.
    """
    lo, hi = edges[0], edges[-1]
    for position, a in enumerate(edges):
        for b in edges[position + 1 :]:
            if b - a < min_samples or (hi - lo) - (b - a) < min_samples:
                continue
            dropped = series.contrast((a, b), (lo, hi)) <= -MIN_Z
            if dropped and series.below(a, b, threshold):
                return False
    return True
