"""Time windows: ``period`` strings (``15m``, ``1h``, ``24h``, ``7d``)."""

from __future__ import annotations

import re

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
