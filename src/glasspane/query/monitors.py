"""Cron monitors from check-ins: runs, failures, timeouts and missed runs.

A monitor is a ``monitor_slug`` in one project and environment; its schedule
and margins come from the latest check-in that carried a ``monitor_config``.
A run is one ``check_in_id``: ``ok`` or ``error`` when it closed, ``timeout``
when it stayed ``in_progress`` past ``max_runtime`` minutes (Sentry's default
30), else ``in_progress``. A scheduled time with no run starting within
``checkin_margin`` minutes of it (default 1) is a missed run:

* crontab: every scheduled time after the monitor's first run, each run
  counting for the scheduled time whose margin window it falls in;
* interval: the next run is due one interval after the last one started;
  each interval that passes without one is a miss (Sentry's rule).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from glasspane.domain import CheckIn, Project
from glasspane.errors import NotFound, ProtocolError
from glasspane.query.cron import Crontab, crontab_times, interval_seconds, next_crontab_time
from glasspane.store.api import SdkItemReader
from glasspane.store.models import Window

DEFAULT_MARGIN_MINUTES = 1.0
DEFAULT_MAX_RUNTIME_MINUTES = 30.0
RECENT = 20
#: Most missed runs listed for one monitor.
MAX_MISSED = 100_000


@dataclass(slots=True)
class Run:
    check_in_id: str
    started: float
    status: str = "in_progress"
    finished: float | None = None
    duration: float | None = None  # seconds
    release: str | None = None
    trace_id: str | None = None


@dataclass(slots=True)
class Monitor:
    project_id: int
    slug: str
    environment: str | None
    config: dict[str, Any] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    last_check_in: float = 0.0


def _minutes(config: dict[str, Any], key: str, default: float) -> float:
    value = config.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return default
    return float(value)


def group_runs(check_ins: list[CheckIn]) -> list[Monitor]:
    """Check-ins (by time) → monitors with their runs (by start)."""
    monitors: dict[tuple[int, str, str | None], Monitor] = {}
    runs: dict[tuple[int, str], Run] = {}
    for c in check_ins:
        key = (c.project_id, c.monitor_slug, c.environment)
        monitor = monitors.setdefault(key, Monitor(*key))
        monitor.config = c.monitor_config or monitor.config
        monitor.last_check_in = max(monitor.last_check_in, c.timestamp)
        run = runs.get((c.project_id, c.check_in_id))
        if run is None:
            run = runs[(c.project_id, c.check_in_id)] = Run(c.check_in_id, c.timestamp)
            monitor.runs.append(run)
        run.release = run.release or c.release
        run.trace_id = run.trace_id or c.trace_id
        if c.status != "in_progress":
            run.status, run.finished = c.status, c.timestamp
            run.duration = c.duration if c.duration is not None else c.timestamp - run.started
    return list(monitors.values())


def _close_timeouts(monitor: Monitor, now: float) -> None:
    limit = _minutes(monitor.config, "max_runtime", DEFAULT_MAX_RUNTIME_MINUTES) * 60.0
    for run in monitor.runs:
        if run.status == "in_progress" and now - run.started > limit:
            run.status = "timeout"


def missed_times(monitor: Monitor, since: float, now: float) -> list[float] | None:
    """Scheduled times in [since, now) without a run; ``None`` without a schedule."""
    schedule = monitor.config.get("schedule")
    if not isinstance(schedule, dict) or not monitor.runs:
        return None
    margin = _minutes(monitor.config, "checkin_margin", DEFAULT_MARGIN_MINUTES) * 60.0
    starts = sorted(r.started for r in monitor.runs)
    if schedule.get("type") == "interval":
        every = interval_seconds(schedule)
        return None if every is None else _interval_misses(starts, every, margin, since, now)
    if schedule.get("type") == "crontab" and isinstance(schedule.get("value"), str):
        try:
            crontab = Crontab.parse(schedule["value"])
        except ProtocolError:
            return None
        tz = monitor.config.get("timezone")
        slots = crontab_times(
            crontab,
            max(since, starts[0] - margin),
            now - margin,
            tz if isinstance(tz, str) else None,
        )
        return _crontab_misses(starts, slots, margin)
    return None


def next_expected(monitor: Monitor, now: float) -> float | None:
    """When the next run is due: the next crontab time, or the first interval after
    the last run's start that is still ahead; ``None`` without a schedule."""
    schedule = monitor.config.get("schedule")
    if not isinstance(schedule, dict) or not monitor.runs:
        return None
    if schedule.get("type") == "interval":
        every = interval_seconds(schedule)
        if every is None:
            return None
        last = max(r.started for r in monitor.runs)
        return last + max(1, math.ceil((now - last) / every)) * every
    if schedule.get("type") == "crontab" and isinstance(schedule.get("value"), str):
        try:
            crontab = Crontab.parse(schedule["value"])
        except ProtocolError:
            return None
        tz = monitor.config.get("timezone")
        return next_crontab_time(crontab, now, tz if isinstance(tz, str) else None)
    return None


def _crontab_misses(starts: list[float], slots: list[float], margin: float) -> list[float]:
    missed, i, previous = [], 0, float("-inf")
    for slot in slots:
        while i < len(starts) and starts[i] <= previous + margin:
            i += 1
        if not (i < len(starts) and starts[i] <= slot + margin):
            missed.append(slot)
        previous = slot
    return missed


def _interval_misses(
    starts: list[float], every: float, margin: float, since: float, now: float
) -> list[float]:
    """The due times ``expected + k * every`` in each gap between runs, counted rather
    than stepped through: the interval comes from the client, and stepping a tiny
    one across a long gap (before ``since``, where nothing is kept) never ended."""
    missed: list[float] = []
    expected = starts[0] + every
    for start in [*starts[1:], None]:
        until = now if start is None else start
        if until > expected + margin:
            first = max(0, math.ceil((since - expected) / every))  # none before the window
            due = math.ceil((until - margin - expected) / every)  # k with due + margin < until
            for k in range(first, min(due, first + MAX_MISSED - len(missed))):
                missed.append(expected + k * every)
        if start is not None:
            expected = start + every
    return missed


def _run_json(run: Run) -> dict[str, Any]:
    return {
        "check_in_id": run.check_in_id,
        "status": run.status,
        "started_at": run.started,
        "finished_at": run.finished,
        "duration_ms": round(run.duration * 1000.0, 3) if run.duration is not None else None,
        "release": run.release,
        "trace_id": run.trace_id,
    }


def monitor_json(monitor: Monitor, projects: dict[int, Project], w: Window) -> dict:
    _close_timeouts(monitor, w.end)
    in_window = [r for r in monitor.runs if r.started >= w.start]
    missed = missed_times(monitor, w.start, w.end)
    counts = defaultdict(
        int,
        {
            s: sum(r.status == s for r in in_window)
            for s in ("ok", "error", "timeout", "in_progress")
        },
    )
    last = monitor.runs[-1] if monitor.runs else None
    status = last.status if last else "unknown"
    if missed and last and missed[-1] > last.started:
        status = "missed"
    project = projects.get(monitor.project_id)
    config = monitor.config
    return {
        "slug": monitor.slug,
        "project": project.name if project else str(monitor.project_id),
        "project_id": monitor.project_id,
        "environment": monitor.environment,
        "status": status,
        "schedule": config.get("schedule"),
        "timezone": config.get("timezone"),
        "checkin_margin": config.get("checkin_margin"),
        "max_runtime": config.get("max_runtime"),
        "last_check_in": monitor.last_check_in,
        "next_expected": next_expected(monitor, w.end),
        "runs": len(in_window),
        "ok": counts["ok"],
        "failed": counts["error"] + counts["timeout"],
        "errors": counts["error"],
        "timeouts": counts["timeout"],
        "in_progress": counts["in_progress"],
        "missed": None if missed is None else len(missed),
        "missed_at": (missed or [])[-RECENT:],
        "recent_runs": [_run_json(r) for r in reversed(monitor.runs[-RECENT:])],
    }


def list_monitors(store: SdkItemReader, projects: list[Project], w: Window) -> dict[str, Any]:
    by_id = {p.id: p for p in projects}
    monitors = group_runs(store.check_ins(w))
    rows = [monitor_json(m, by_id, w) for m in monitors]
    rows.sort(key=lambda m: (m["project"], m["slug"], m["environment"] or ""))
    return {"monitors": rows}


def get_monitor(
    store: SdkItemReader, projects: list[Project], slug: str, w: Window
) -> dict[str, Any]:
    found = [m for m in list_monitors(store, projects, w)["monitors"] if m["slug"] == slug]
    if not found:
        raise NotFound(f"No monitor {slug!r} has checked in; check the monitor_slug")
    return {"monitor": found[0], "environments": found}
