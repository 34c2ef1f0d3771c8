"""Time windows: ``period`` strings.

A period is either a duration back from now (``15m``, ``1h``, ``24h``, ``7d``)
or a fixed range ``FROM/TO`` of two ISO 8601 times (UTC when they name no
zone, as the search language reads them) or epoch seconds:
``2026-12-03T09:00/2026-12-03T10:30``. The pages' custom range picker writes
the second form, so a link keeps the exact view.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from glasspane.errors import ProtocolError

DEFAULT_PERIOD = "24h"
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PERIOD = re.compile(r"(\d++(?:\.\d++)?)([smhdw])")
MAX_SECONDS = 400 * 86400


def parse_period(text: str | None) -> float:
    """Seconds in a period such as ``15m``; a clear 400 for anything else."""
    text = (text or DEFAULT_PERIOD).strip()
    match = _PERIOD.fullmatch(text)
    if not match:
        raise ProtocolError(
            f"period {text!r} is not a duration: use a number and a unit s, m, h, d or w, "
            "such as 15m, 1h, 24h or 7d"
        )
    seconds = float(match.group(1)) * UNITS[match.group(2)]
    if not 0 < seconds <= MAX_SECONDS:
        raise ProtocolError(f"period {text!r} must be more than 0 and at most 400d")
    return seconds


#: Longest text accepted for one end of a range (an ISO time with offset fits).
_MAX_END_CHARS = 40


def parse_window(text: str | None, now: float) -> tuple[float, float]:
    """``(start, end)`` in epoch seconds of a period: a duration back from ``now``
    or a ``FROM/TO`` range; a clear 400 for anything else."""
    text = (text or DEFAULT_PERIOD).strip()
    if "/" not in text:
        return now - parse_period(text), now
    first, _, second = text.partition("/")
    start, end = _instant(first, "start"), _instant(second, "end")
    if end <= start:
        raise ProtocolError(f"period {text!r} ends before it starts: give FROM/TO with FROM first")
    if end - start > MAX_SECONDS:
        raise ProtocolError(f"period {text!r} is longer than 400d")
    return start, end


def _instant(text: str, which: str) -> float:
    """One end of a range: epoch seconds or an ISO 8601 time (UTC without a zone)."""
    text = text.strip()
    if len(text) > _MAX_END_CHARS:
        raise ProtocolError(
            f"the {which} of the period is not a time: it is longer than {_MAX_END_CHARS} "
            "characters; use an ISO time such as 2026-12-03T09:00 (UTC) or epoch seconds"
        )
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ProtocolError(
            f"the {which} of the period, {text!r}, is not a time: use an ISO time such as "
            "2026-12-03T09:00 (UTC) or epoch seconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def describe_window(text: str | None) -> str:
    """How a page names its period: the duration as written, or ``FROM – TO`` in UTC."""
    text = (text or DEFAULT_PERIOD).strip()
    if "/" not in text:
        return text
    try:
        start, end = parse_window(text, 0.0)
    except ProtocolError:
        return text
    fmt = "%Y-%m-%d %H:%M"
    return (
        f"{datetime.fromtimestamp(start, UTC).strftime(fmt)} – "
        f"{datetime.fromtimestamp(end, UTC).strftime(fmt)} UTC"
    )
