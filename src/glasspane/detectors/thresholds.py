"""Each detector's thresholds, Sentry's defaults, and a project's own.

A project's thresholds are a mapping from detector to the thresholds it changes,
plus ``enabled`` to switch the detector off, e.g.
``{"n_plus_one_db_queries": {"min_repeats": 3}, "slow_db_query": {"enabled": false}}``.
:func:`validate` checks what a user sends; :func:`limits` merges a project's
thresholds over the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from glasspane.detectors import assets, db, http
from glasspane.detectors.spans import Limits

#: Every detector's thresholds with their defaults (Sentry's documented ones).
DEFAULTS: dict[str, dict[str, float]] = {**db.DEFAULTS, **http.DEFAULTS, **assets.DEFAULTS}

#: What a project changes: per detector, thresholds by name and ``enabled``.
ProjectThresholds = Mapping[str, Mapping[str, float | bool]]

#: Thresholds that count things (whole numbers, at least 1).
_COUNTS = frozenset({"min_repeats", "min_calls"})
#: Thresholds that are a fraction of a duration.
_RATIOS = frozenset({"min_time_saved_ratio", "min_fcp_ratio"})
_MAX_VALUE = 1e12


def limits(kind: str, thresholds: ProjectThresholds) -> Limits | None:
    """The thresholds detector ``kind`` runs with in a project, or ``None`` when the
    project switched it off."""
    own = thresholds.get(kind)
    if not own:
        return DEFAULTS[kind]
    if own.get("enabled") is False:
        return None
    return {**DEFAULTS[kind], **{k: float(v) for k, v in own.items() if k != "enabled"}}


def validate(raw: Any) -> dict[str, dict[str, float | bool]]:
    """``raw`` (decoded JSON) as project thresholds; ``ValueError`` names what is wrong.

    Values equal to the default are kept (a later change of default does not
    change a project that chose a value)."""
    if not isinstance(raw, dict):
        raise ValueError("performance_thresholds must be an object of detectors")
    checked: dict[str, dict[str, float | bool]] = {}
    for kind, changes in raw.items():
        if kind not in DEFAULTS:
            raise ValueError(
                f"performance_thresholds: unknown detector {kind!r}; "
                f"known: {', '.join(sorted(DEFAULTS))}"
            )
        if not isinstance(changes, dict):
            raise ValueError(f"performance_thresholds.{kind} must be an object")
        checked[kind] = {name: _value(kind, name, value) for name, value in changes.items()}
    return checked


def _value(kind: str, name: str, value: Any) -> float | bool:
    where = f"performance_thresholds.{kind}.{name}"
    if name == "enabled":
        if not isinstance(value, bool):
            raise ValueError(f"{where} must be true or false")
        return value
    if name not in DEFAULTS[kind]:
        raise ValueError(
            f"{where}: unknown threshold; {kind} has enabled, {', '.join(DEFAULTS[kind])}"
        )
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where} must be a number, not {value!r}")
    if name in _COUNTS and (value != int(value) or not 1 <= value <= 100_000):
        raise ValueError(f"{where} must be a whole number from 1 to 100000, not {value!r}")
    if name in _RATIOS and not 0 <= value <= 1:
        raise ValueError(f"{where} is a fraction from 0 to 1, not {value!r}")
    if not 0 <= value <= _MAX_VALUE:
        raise ValueError(f"{where} must be from 0 to {_MAX_VALUE:g}, not {value!r}")
    return int(value) if name in _COUNTS else float(value)
