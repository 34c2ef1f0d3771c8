"""How well the regression detector finds latency steps: a sweep over synthetic series.

Each case is one transaction's latencies over a 24 h period (the API's 60
buckets of 24 minutes, 30 samples a side, factor 1.5): ``samples`` timestamps
drawn uniformly over the period, durations lognormal with median 200 ms and
log-spread ``sigma``, multiplied by 1 + ``step`` from ``at`` × 24 h on. Every
quantile, p95 included, moves by exactly that factor, so the true change_pct
is ``step`` × 100. :func:`glasspane.query.regressions.find_regressions` runs
on the samples directly (pure: no server, no store).

The grid: step times 10 %, 50 %, 90 % into the period; steps none, +20 %,
+50 %, +100 %, +500 %; sigma 0.1, 0.25, 0.5; 50, 200, 700 and 5000 samples;
``--trials`` seeds each (default 10, docs/regressions.md has 30; seeds are
derived from the case, so a run is reproducible). Reported, per case as it
goes and then pooled:

* detection rate: the share of series with a step of +50 % or more that get
  a p95 row (+20 % is below the 1.5× factor: a row there is not expected);
* false-alarm rate: the share of flat series that get any row;
* start error: |started_at − the real step| in minutes, median and p90, over
  the rows found for steps of +50 % or more;
* change_pct error: |change_pct − step × 100| in percentage points, median.

    .venv/bin/python bench/regressions_sweep.py              # 10 trials a case, ~15 s
    .venv/bin/python bench/regressions_sweep.py --trials 30  # docs/regressions.md, ~1 min

Bounded: at most 100 trials a case (the full grid at 10 trials is 1800 series).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT / "src"))

from glasspane.query.regressions import P95, Sample, find_regressions  # noqa: E402

PERIOD_S = 24 * 3600.0
START = 1_763_240_000.0
END = START + PERIOD_S
MEDIAN_MS = 200.0
#: Steps worth a row: the detector's factor is 1.5.
DETECTABLE = 0.5

STEP_TIMES = (0.1, 0.5, 0.9)
STEPS = (0.0, 0.2, 0.5, 1.0, 5.0)
SIGMAS = (0.1, 0.25, 0.5)
SAMPLE_COUNTS = (50, 200, 700, 5000)
MAX_TRIALS = 100


@dataclass(frozen=True, slots=True)
class Case:
    """One series shape: where the step is (fraction of the period), how big, the noise."""

    at: float
    step: float
    sigma: float
    samples: int

    @property
    def step_time(self) -> float:
        return START + self.at * PERIOD_S


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the detector made of one series of ``case``."""

    case: Case
    found: bool  # a p95 row
    any_row: bool  # any row at all (p95 or failure rate)
    start_error_min: float | None  # |started_at − step| for a p95 row
    change_pct_error: float | None  # |change_pct − step × 100| for a p95 row


def series(case: Case, trial: int) -> list[Sample]:
    """The synthetic samples of ``case``; the same case and trial give the same series."""
    rng = random.Random(zlib.crc32(f"{case}|{trial}".encode()))
    mu = math.log(MEDIAN_MS)
    samples = []
    for _ in range(case.samples):
        at = rng.uniform(START, END)
        duration = rng.lognormvariate(mu, case.sigma)
        if at >= case.step_time:
            duration *= 1 + case.step
        samples.append(Sample(at, duration, failed=False))
    return samples


def run_case(case: Case, trial: int) -> Outcome:
    """Generate one series of ``case`` and run the detector on it."""
    rows = find_regressions(series(case, trial), START, END)
    p95 = [row for row in rows if row.metric == P95]
    if not p95:
        return Outcome(case, False, bool(rows), start_error_min=None, change_pct_error=None)
    row = p95[0]
    return Outcome(
        case,
        found=True,
        any_row=True,
        start_error_min=abs(row.started_at - case.step_time) / 60,
        change_pct_error=abs(row.change_pct - case.step * 100),
    )


def grid() -> list[Case]:
    return [
        Case(at, step, sigma, n)
        for n in SAMPLE_COUNTS
        for sigma in SIGMAS
        for step in STEPS
        for at in STEP_TIMES
    ]


def quantile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank q-quantile, None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass(frozen=True, slots=True)
class Summary:
    """Pooled figures over a set of outcomes."""

    detection: float | None  # share of steps ≥ +50 % found
    false_alarms: float | None  # share of flat series with any row
    start_median_min: float | None
    start_p90_min: float | None
    change_pct_median: float | None


def summarise(outcomes: Iterable[Outcome]) -> Summary:
    outcomes = list(outcomes)
    steps = [o for o in outcomes if o.case.step >= DETECTABLE]
    flat = [o for o in outcomes if o.case.step == 0]
    found = [o for o in steps if o.found]
    starts = [o.start_error_min for o in found if o.start_error_min is not None]
    changes = [o.change_pct_error for o in found if o.change_pct_error is not None]
    return Summary(
        detection=sum(o.found for o in steps) / len(steps) if steps else None,
        false_alarms=sum(o.any_row for o in flat) / len(flat) if flat else None,
        start_median_min=quantile(starts, 0.5),
        start_p90_min=quantile(starts, 0.9),
        change_pct_median=quantile(changes, 0.5),
    )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def _num(value: float | None, unit: str = "") -> str:
    return "–" if value is None else f"{value:.1f}{unit}"


def _label(key: str, value: float) -> str:
    """How a value of ``Case.key`` reads in a table: none, +50%, 10%, 0.25, 700."""
    if key == "step":
        return "none" if value == 0 else f"+{value:.0%}"
    return f"{value:.0%}" if key == "at" else f"{value:g}"


def table(outcomes: Sequence[Outcome], key_name: str, key: str) -> str:
    """A Markdown table of the pooled figures per value of one ``Case`` field."""
    values = sorted({getattr(o.case, key) for o in outcomes})
    lines = [
        f"| {key_name} | detected (≥ +50 %) | false alarms | start error median | "
        "start error p90 | change_pct error median |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for value in values:
        s = summarise(o for o in outcomes if getattr(o.case, key) == value)
        label = _label(key, value)
        lines.append(
            f"| {label} | {_pct(s.detection)} | {_pct(s.false_alarms)} | "
            f"{_num(s.start_median_min, ' min')} | {_num(s.start_p90_min, ' min')} | "
            f"{_num(s.change_pct_median, ' pp')} |"
        )
    return "\n".join(lines)


def matrix(outcomes: Sequence[Outcome], key: str, cell: Callable[[list[Outcome]], str]) -> str:
    """A Markdown table of ``cell`` per value of ``Case.key`` (rows) and sample count."""
    counts = sorted({o.case.samples for o in outcomes})
    lines = [
        f"| {'step' if key == 'step' else 'step at'} | "
        + " | ".join(f"{n} samples" for n in counts)
        + " |",
        "|---:|" + "---:|" * len(counts),
    ]
    for value in sorted({getattr(o.case, key) for o in outcomes}):
        cells = [
            cell([o for o in outcomes if getattr(o.case, key) == value and o.case.samples == n])
            for n in counts
        ]
        label = _label(key, value)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def found_share(group: list[Outcome]) -> str:
    return _pct(sum(o.found for o in group) / len(group)) if group else "–"


def start_errors(group: list[Outcome]) -> str:
    """Median / p90 start error in minutes of the rows for steps of +50 % or more."""
    s = summarise(o for o in group if o.case.step >= DETECTABLE)
    if s.start_median_min is None:
        return "–"
    return f"{s.start_median_min:.1f} / {_num(s.start_p90_min)}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10, help="seeds per case (1-100)")
    args = parser.parse_args(argv)
    if not 1 <= args.trials <= MAX_TRIALS:
        parser.error(f"--trials must be between 1 and {MAX_TRIALS}")
    cases = grid()
    began = time.monotonic()
    outcomes: list[Outcome] = []
    print("samples sigma   step    at  found  rows  start err median (min)", file=sys.stderr)
    for number, case in enumerate(cases, 1):
        mine = [run_case(case, trial) for trial in range(args.trials)]
        outcomes.extend(mine)
        starts = [o.start_error_min for o in mine if o.start_error_min is not None]
        print(
            f"{case.samples:7d} {case.sigma:5.2f} {case.step:+6.0%} {case.at:5.0%} "
            f"{sum(o.found for o in mine):3d}/{args.trials:<3d}"
            f"{sum(o.any_row for o in mine):4d}   {_num(quantile(starts, 0.5))}"
            f"   [{number}/{len(cases)}, {time.monotonic() - began:.0f} s]",
            file=sys.stderr,
            flush=True,
        )
    total = summarise(outcomes)
    elapsed = time.monotonic() - began
    print(f"\n{len(outcomes)} series, {args.trials} per case, {elapsed:.0f} s\n")
    print("Share of series with a p95 row, by step and sample count:\n")
    print(matrix(outcomes, "step", found_share))
    print("\nStart error of the rows found (steps ≥ +50 %), median / p90 in minutes:\n")
    print(matrix(outcomes, "at", start_errors))
    for name, key in (("samples", "samples"), ("sigma", "sigma"), ("step at", "at")):
        print(f"\nBy {name}:\n")
        print(table(outcomes, name, key))
    print("\nBy step size (steps below +50 % are not expected to be found):\n")
    print(table(outcomes, "step", "step"))
    print(
        f"\nSummary: detected {_pct(total.detection)} of steps ≥ +50 %, "
        f"false alarms on {_pct(total.false_alarms)} of flat series, start error "
        f"median {_num(total.start_median_min, ' min')} (p90 "
        f"{_num(total.start_p90_min, ' min')}), change_pct error median "
        f"{_num(total.change_pct_median, ' pp')}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
