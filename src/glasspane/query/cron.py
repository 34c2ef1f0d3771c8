"""Monitor schedules: when a cron job was expected to run.

``monitor_config.schedule`` is either a crontab (``{"type": "crontab",
"value": "0 3 * * *"}``, five fields with ``*``, lists, ranges, steps and
month/day names, or ``@daily`` and friends) in the config's ``timezone``, or an
interval (``{"type": "interval", "value": 5, "unit": "minute"}``). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from glasspane.errors import ProtocolError

_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES)}
DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
#: Scheduled times are looked for in at most this many minutes (31 days).
MAX_MINUTES = 31 * 1440
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, MONTHS),
    ("day of week", 0, 7, DAYS),
)


def _number(text: str) -> int | None:
    """A small whole number in ASCII digits (``"²".isdigit()`` is true, ``int("²")`` fails)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def _value(text: str, names: dict[str, int], what: str) -> int:
    text = text.strip().lower()
    if text in names:
        return names[text]
    number = _number(text)
    if number is None:
        raise ProtocolError(f"crontab {what} {text!r} is not a number")
    return number


def _field(text: str, low: int, high: int, names: dict[str, int], what: str) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        span, _, step_text = part.partition("/")
        step = _number(step_text) or 1
        if step_text and step == 1 and step_text != "1":
            raise ProtocolError(f"crontab {what} step {step_text!r} is not a positive number")
        if span == "*":
            start, end = low, high
        elif "-" in span:
            a, b = span.split("-", 1)
            start, end = _value(a, names, what), _value(b, names, what)
        else:
            start = _value(span, names, what)
            end = high if step_text else start
        if not low <= start <= end <= high:
            raise ProtocolError(f"crontab {what} {part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return values


@dataclass(frozen=True, slots=True)
class Crontab:
    minutes: set[int]
    hours: set[int]
    days: set[int]
    months: set[int]
    weekdays: set[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, expression: str) -> Crontab:
        text = MACROS.get(expression.strip().lower(), expression)
        parts = text.split()
        if len(parts) != 5:
            raise ProtocolError(f"crontab {expression!r} must have 5 fields")
        sets = [
            _field(p, lo, hi, names, what)
            for p, (what, lo, hi, names) in zip(parts, FIELDS, strict=True)
        ]
        weekdays = {d % 7 for d in sets[4]}
        return cls(sets[0], sets[1], sets[2], sets[3], weekdays, parts[2] == "*", parts[4] == "*")

    def matches(self, moment: datetime) -> bool:
        if moment.minute not in self.minutes or moment.hour not in self.hours:
            return False
        if moment.month not in self.months:
            return False
        day = moment.day in self.days
        weekday = (moment.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:  # cron: both restricted means either
            return day and weekday
        return day or weekday


def crontab_times(crontab: Crontab, start: float, end: float, tz: str | None) -> list[float]:
    """Scheduled times in [start, end), looking at most :data:`MAX_MINUTES` back from end."""
    try:
        zone = ZoneInfo(tz) if tz else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    stamp = float(int(max(start, end - MAX_MINUTES * 60.0)) // 60 * 60)
    if stamp < start:
        stamp += 60.0
    found: list[float] = []
    while stamp < end:
        if crontab.matches(datetime.fromtimestamp(stamp, zone)):
            found.append(stamp)
        stamp += 60.0
    return found


def next_crontab_time(crontab: Crontab, after: float, tz: str | None) -> float | None:
    """The first scheduled time after ``after``, looking at most :data:`MAX_MINUTES` ahead."""
    try:
        zone = ZoneInfo(tz) if tz else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    stamp = float(int(after) // 60 * 60) + 60.0
    for _ in range(MAX_MINUTES):
        if crontab.matches(datetime.fromtimestamp(stamp, zone)):
            return stamp
        stamp += 60.0
    return None


def interval_seconds(schedule: dict[str, Any]) -> float | None:
    value = schedule.get("value")
    unit = str(schedule.get("unit") or "minute").rstrip("s")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    if unit == "month":
        return value * 30 * 86400.0
    if unit == "year":
        return value * 365 * 86400.0
    seconds = UNIT_SECONDS.get(unit)
    return value * seconds if seconds else None
