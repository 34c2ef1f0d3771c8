"""Size limits on stored values: long strings are cut, deep nesting is cut off.

One long string must never cost a whole event, so nothing here rejects: a
string over the limit keeps its start and ends with a marker saying how much
was cut, and an object or array nested deeper than the limit is replaced by a
marker string. Pure functions over JSON-like values.
"""

from __future__ import annotations

from typing import Any

DEPTH_MARKER = "[depth limit]"


def truncate(text: str, max_length: int) -> str:
    """``text`` itself, or its first ``max_length`` characters and a marker."""
    if len(text) <= max_length:
        return text
    return f"{text[:max_length]}...[truncated {len(text) - max_length} chars]"


def _key(key: Any, max_length: int) -> Any:
    return truncate(key, max_length) if type(key) is str else key


def _long_name(value: dict[Any, Any], max_length: int) -> bool:
    """Whether a key is over the limit (names are client text too: tags, data keys)."""
    try:
        if sum(map(len, value)) <= max_length:  # a cheap bound, true of most dicts
            return False
    except TypeError:  # a key without a length (not from JSON)
        pass
    return any(type(k) is str and len(k) > max_length for k in value)


def clamp(value: Any, max_length: int, max_depth: int, depth: int = 1) -> Any:
    """``value`` with strings (and names) truncated and containers below ``max_depth`` replaced.

    ``depth`` is the nesting level of ``value`` itself (1 for a field's dict);
    unchanged values are returned as they are, so the common case copies nothing.
    """
    if isinstance(value, str):
        return truncate(value, max_length)
    if isinstance(value, dict):
        if depth > max_depth:
            return DEPTH_MARKER
        out: dict[Any, Any] | None = None  # copied on the first change only
        for key, item in value.items():
            if isinstance(item, str) and len(item) <= max_length:
                continue  # the common case, without a call
            new = clamp(item, max_length, max_depth, depth + 1)
            if new is not item:
                out = dict(value) if out is None else out
                out[key] = new
        if _long_name(value, max_length):
            out = {_key(k, max_length): v for k, v in (value if out is None else out).items()}
        return value if out is None else out
    if isinstance(value, list):
        if depth > max_depth:
            return DEPTH_MARKER
        items = [clamp(v, max_length, max_depth, depth + 1) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value
