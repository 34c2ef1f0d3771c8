"""Small coercions shared by the normalisers: times, ids, strings."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from glasspane.errors import ItemError

_FRACTION = re.compile(r"\.(\d+)")


def timestamp(value: Any, what: str) -> float:
    """Epoch seconds from a float/int or an RFC 3339 string (``Z`` or offset).

    Strings without a zone are UTC. Fractions finer than microseconds are cut.
    """
    if isinstance(value, bool):
        raise ItemError(f"{what} must be a timestamp, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = _FRACTION.sub(lambda m: "." + m.group(1)[:6], value.strip(), count=1)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                raise ItemError(f"{what} is not a timestamp: {value!r}") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    raise ItemError(f"{what} must be a timestamp, got {type(value).__name__}")


def hex_id(value: Any, length: int, what: str) -> str:
    """A lowercase hex id of ``length`` digits (UUID dashes removed)."""
    if not isinstance(value, str):
        raise ItemError(f"{what} must be a {length}-digit hex string, got {value!r}")
    text = value.replace("-", "").lower()
    if len(text) != length or any(c not in "0123456789abcdef" for c in text):
        raise ItemError(f"{what} must be a {length}-digit hex string, got {value!r}")
    return text


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
        value = dict(pair for pair in value if isinstance(pair, list) and len(pair) == 2)
    if not isinstance(value, dict):
        return {}
    return {str(k): v if isinstance(v, str) else str(v) for k, v in value.items() if v is not None}


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
