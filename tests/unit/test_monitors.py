"""Cron schedules and missed-run detection: pure functions on check-ins."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from glasspane.domain import CheckIn
from glasspane.errors import ProtocolError
from glasspane.query.cron import Crontab, crontab_times, interval_seconds
from glasspane.query.monitors import group_runs, missed_times, next_expected

MINUTE, HOUR = 60.0, 3600.0
#: Wednesday 2026-11-25 00:00 UTC.
WEDNESDAY = datetime(2026, 11, 25, tzinfo=UTC).timestamp()


def _at(hour: int, minute: int = 0, day: int = 25) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "moment", "matches"),
    [
        ("0 3 * * *", _at(3), True),
        ("0 3 * * *", _at(3, 1), False),
        ("*/15 9-17 * * mon-fri", _at(9, 45), True),
        ("*/15 9-17 * * mon-fri", _at(9, 45, day=29), False),  # a Sunday
        ("0 0 1 * *", _at(0, day=1), True),
        ("0 12 1 * 3", _at(12), True),  # either the 1st or a Wednesday (cron's rule)
        ("@hourly", _at(7), True),
        ("0 0 * JAN,nov 7", _at(0, day=29), True),  # 7 is Sunday too
    ],
)
def test_crontab_matches(expression: str, moment: datetime, matches: bool) -> None:
    assert Crontab.parse(expression).matches(moment) is matches


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * *", "5 fields"),
        ("61 * * * *", "outside 0-59"),
        ("x * * * *", "not a number"),
        ("*/0 * * * *", "step"),
    ],
)
def test_bad_crontabs_say_why(expression: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        Crontab.parse(expression)


def test_crontab_times_follow_the_timezone() -> None:
    daily = Crontab.parse("0 3 * * *")
    utc = crontab_times(daily, WEDNESDAY, WEDNESDAY + 2 * 86400, None)
    berlin = crontab_times(daily, WEDNESDAY, WEDNESDAY + 2 * 86400, "Europe/Berlin")
    assert utc == [WEDNESDAY + 3 * HOUR, WEDNESDAY + 27 * HOUR]
    assert berlin == [t - HOUR for t in utc]  # 03:00 in Berlin is 02:00 UTC in November


def test_interval_units() -> None:
    assert interval_seconds({"value": 5, "unit": "minute"}) == 300
    assert interval_seconds({"value": 2, "unit": "hours"}) == 7200
    assert interval_seconds({"value": 0, "unit": "minute"}) is None
    assert interval_seconds({"value": 1, "unit": "fortnight"}) is None


def _runs(slug: str, starts: list[float], config: dict) -> list[CheckIn]:
    return [
        CheckIn(1, f"{i:032x}", slug, "ok", ts, monitor_config=config if i == 0 else {})
        for i, ts in enumerate(starts)
    ]


def test_crontab_misses_are_the_slots_without_a_run() -> None:
    config = {"schedule": {"type": "crontab", "value": "0 * * * *"}, "checkin_margin": 5}
    # Runs at 01:02 and 03:01; the job was due at 01, 02, 03 and 04.
    starts = [WEDNESDAY + HOUR + 2 * MINUTE, WEDNESDAY + 3 * HOUR + MINUTE]
    [monitor] = group_runs(_runs("hourly", starts, config))
    missed = missed_times(monitor, WEDNESDAY, WEDNESDAY + 4 * HOUR + 10 * MINUTE)
    assert missed == [WEDNESDAY + 2 * HOUR, WEDNESDAY + 4 * HOUR]
    # Still within the margin of 04:00: not missed yet.
    assert missed_times(monitor, WEDNESDAY, WEDNESDAY + 4 * HOUR + 3 * MINUTE) == [
        WEDNESDAY + 2 * HOUR
    ]


def test_interval_misses_reanchor_on_each_run() -> None:
    config = {"schedule": {"type": "interval", "value": 10, "unit": "minute"}}
    # Every 10 minutes from 00:00, a 25-minute gap after 00:10, then silence.
    starts = [WEDNESDAY, WEDNESDAY + 10 * MINUTE, WEDNESDAY + 35 * MINUTE]
    [monitor] = group_runs(_runs("every-10", starts, config))
    missed = missed_times(monitor, WEDNESDAY, WEDNESDAY + 58 * MINUTE)
    assert [round((t - WEDNESDAY) / MINUTE) for t in missed] == [20, 30, 45, 55]


def test_no_schedule_no_misses_and_runs_close_by_id() -> None:
    check_ins = [
        CheckIn(1, "a" * 32, "job", "in_progress", 10.0),
        CheckIn(1, "a" * 32, "job", "error", 12.5),
        CheckIn(1, "b" * 32, "job", "ok", 20.0, duration=3.0),
    ]
    [monitor] = group_runs(check_ins)
    assert [(r.status, r.duration) for r in monitor.runs] == [("error", 2.5), ("ok", 3.0)]
    assert missed_times(monitor, 0.0, 100.0) is None


def test_next_expected_run() -> None:
    hourly = {"schedule": {"type": "crontab", "value": "0 * * * *"}}
    [monitor] = group_runs(_runs("hourly", [WEDNESDAY + HOUR], hourly))
    assert next_expected(monitor, WEDNESDAY + HOUR + 30) == WEDNESDAY + 2 * HOUR
    assert next_expected(monitor, WEDNESDAY + 2 * HOUR) == WEDNESDAY + 3 * HOUR
    zoned = {"schedule": {"type": "crontab", "value": "0 3 * * *"}, "timezone": "Asia/Tokyo"}
    [monitor] = group_runs(_runs("daily", [WEDNESDAY], zoned))
    assert next_expected(monitor, WEDNESDAY) == WEDNESDAY + 18 * HOUR  # 03:00 in Tokyo
    every = {"schedule": {"type": "interval", "value": 10, "unit": "minute"}}
    [monitor] = group_runs(_runs("every-10", [WEDNESDAY], every))
    assert next_expected(monitor, WEDNESDAY + MINUTE) == WEDNESDAY + 10 * MINUTE
    # Overdue: the next due time still ahead, one interval after another.
    assert next_expected(monitor, WEDNESDAY + 25 * MINUTE) == WEDNESDAY + 30 * MINUTE
    [monitor] = group_runs(_runs("none", [WEDNESDAY], {}))
    assert next_expected(monitor, WEDNESDAY) is None
