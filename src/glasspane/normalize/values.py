"""Small coercions shared by the normalisers: times, ids, strings."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from glasspane.errors import ItemError

_FRACTION = re.compile(r"\.(\d+)")
_HEX = re.compile(r"[0-9a-f]+")


def timestamp(value: Any, what: str) -> float:
    """Epoch seconds from a float/int or an RFC 3339 string (``Z`` or offset).

    Strings without a zone are UTC. Fractions finer than microseconds are cut.
    """
    if isinstance(value, bool):
        raise ItemError(f"{what} must be a timestamp, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = _parse_slowly(value, what)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    raise ItemError(f"{what} must be a timestamp, got {type(value).__name__}")


def _parse_slowly(value: str, what: str) -> datetime:
    """What ``fromisoformat`` refuses: nanosecond fractions, numbers as strings."""
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6], value.strip(), count=1)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except (ValueError, OverflowError, OSError):
        raise ItemError(f"{what} is not a timestamp: {value!r}") from None


def hex_id(value: Any, length: int, what: str) -> str:
    """A lowercase hex id of ``length`` digits (UUID dashes removed)."""
    if isinstance(value, str):
        text = value if len(value) == length else value.replace("-", "")
        text = text.lower()
        if len(text) == length and _HEX.fullmatch(text):
            return text
    raise ItemError(f"{what} must be a {length}-digit hex string, got {value!r}")


def optional_hex_id(value: Any, length: int, what: str) -> str | None:
    if value in (None, ""):
        return None
    return hex_id(value, length, what)


def text(value: Any) -> str | None:
    """A string for a value the SDKs may send as anything (or nothing)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return str(value)


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def string_tags(value: Any) -> dict[str, str]:
    """Tags as ``{str: str}``; SDKs send a dict or a list of pairs."""
    if isinstance(value, list):
        pairs: list[Any] = [p for p in value if isinstance(p, list) and len(p) == 2]
    elif isinstance(value, dict):
        pairs = list(value.items())
    else:
        return {}
    return {
        str(k): v if isinstance(v, str) else str(v)
        for k, v in pairs
        if v is not None and isinstance(k, (str, int, float, bool))
    }


def sample_rate(*candidates: Any) -> float:
    """The first usable rate in (0, 1]; 1.0 when none is."""
    for candidate in candidates:
        try:
            rate = float(candidate)
        except (TypeError, ValueError):
            continue
        if 0.0 < rate <= 1.0:
            return rate
    return 1.0
