"""A slice of the regression sweep (bench/regressions_sweep.py), so the script cannot rot."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # bench/ is not installed; import it from the checkout

from bench.regressions_sweep import Case, found_share, matrix, run_case, summarise, table  # noqa: E402


def test_a_five_fold_step_is_found_to_the_minute_and_a_flat_series_is_quiet() -> None:
    step = Case(at=0.5, step=5.0, sigma=0.25, samples=700)
    flat = Case(at=0.5, step=0.0, sigma=0.25, samples=700)
    small = Case(at=0.5, step=0.2, sigma=0.25, samples=700)  # below the 1.5× factor
    outcomes = [run_case(case, trial) for case in (step, flat, small) for trial in range(2)]
    found = [o for o in outcomes if o.case == step]
    assert all(o.found for o in found)
    assert all(o.start_error_min is not None and o.start_error_min < 10 for o in found)
    assert all(o.change_pct_error is not None and o.change_pct_error < 100 for o in found)
    assert not any(o.any_row for o in outcomes if o.case != step)
    summary = summarise(outcomes)
    assert summary.detection == 1.0 and summary.false_alarms == 0.0
    assert "| +500% | 100 % |" in matrix(outcomes, "step", found_share)
    assert "| none | 0 % |" in matrix(outcomes, "step", found_share)
    assert "| 700 | 100 % | 0 % |" in table(outcomes, "samples", "samples")


def test_the_series_are_reproducible() -> None:
    case = Case(at=0.1, step=1.0, sigma=0.5, samples=200)
    assert run_case(case, 3) == run_case(case, 3)
