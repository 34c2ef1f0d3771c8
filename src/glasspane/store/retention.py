"""How long data is kept, for every backend: ``--retention 30d``.

ClickHouse enforces it with a TTL on each table (whole days dropped by its
merges); DuckDB with a sweep that deletes older rows at start and then hourly.
"""

from __future__ import annotations

import re

from glasspane.errors import ConfigError

DEFAULT_RETENTION_DAYS = 30
#: About 68 years: kept below the end of ClickHouse's DateTime range.
MAX_RETENTION_DAYS = 25000

#: The time column of each table that retention applies to. Projects, issues'
#: status, alert state and leases are kept.
TTL_COLUMNS: dict[str, str] = {
    "spans": "start_ts",
    "segments": "start_ts",
    "errors": "timestamp",
    "outcomes": "timestamp",
    "logs": "timestamp",
    "metrics": "timestamp",
    "replay_segments": "timestamp",
    "replay_recordings": "received_at",
    "sessions": "timestamp",
    "session_aggregates": "started",
    "check_ins": "timestamp",
    "feedback": "timestamp",
    "profiles": "timestamp",
}

_PERIOD = re.compile(r"^\s*+(\d++)\s*+(d|w)?\s*+$")


def parse_retention(text: str | int) -> int:
    """Days from ``30d``, ``4w`` or a bare number of days; at least one day."""
    match = _PERIOD.match(str(text))
    if not match or int(match.group(1)) < 1:
        raise ConfigError(
            f"--retention takes a number of days such as 30d or 4w (at least 1d), not {text!r}"
        )
    days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
    if days > MAX_RETENTION_DAYS:
        raise ConfigError(
            f"--retention {text!r} is more than {MAX_RETENTION_DAYS} days (ClickHouse's "
            "DateTime, which its TTL uses, ends in 2106)"
        )
    return days
