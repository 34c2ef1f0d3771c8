"""Which error events are the same bug: the grouping fingerprint.

Default parts, per exception in the chain: the type plus the in-app frames'
module (else file name) and function, never line numbers, so the same bug
raised from another line or loop iteration of a function groups together. With
no in-app frames all frames are used; with no frames, the type and the message
with its variable parts masked. The SDK's own ``fingerprint`` wins, and its
``{{ default }}`` entry stands for the default parts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from glasspane.domain import ExceptionInfo, Frame

_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "<email>"),
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
            r"[0-9a-fA-F]{12}\b"
        ),
        "<uuid>",
    ),
    (re.compile(r"\b\d{1,3}(\.\d{1,3}){3}\b"), "<ip>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<hex>"),
    (
        re.compile(
            r"\b[0-9a-fA-F]*\d[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b|"
            r"\b[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\d[0-9a-fA-F]*\b"
        ),
        "<hex>",
    ),
    (re.compile(r"\d+(\.\d+)?"), "<num>"),
)
_DEFAULT = re.compile(r"^\{\{\s*default\s*\}\}$")


def mask(message: str) -> str:
    """The message with numbers, hex, UUIDs, emails and IPs replaced by placeholders."""
    for pattern, placeholder in _MASKS:
        message = pattern.sub(placeholder, message)
    return message


def _frame_parts(frames: Sequence[Frame]) -> list[str]:
    chosen = [f for f in frames if f.in_app] or list(frames)
    return [f"{f.module or f.filename or '?'}:{f.function or '?'}" for f in chosen]


def default_parts(exceptions: Sequence[ExceptionInfo], message: str | None) -> list[str]:
    parts: list[str] = []
    for exc in exceptions:
        parts.append(exc.type or "Error")
        frames = _frame_parts(exc.frames)
        parts.extend(frames if frames else [mask(exc.value or "")])
    if not parts:
        parts.append(mask(message or ""))
    return parts


def fingerprint(
    exceptions: Sequence[ExceptionInfo], message: str | None, sdk_fingerprint: Any = None
) -> str:
    """A stable hex digest naming the group this event belongs to."""
    if isinstance(sdk_fingerprint, list) and sdk_fingerprint:
        parts: list[str] = []
        for entry in sdk_fingerprint:
            if isinstance(entry, str) and _DEFAULT.match(entry.strip()):
                parts.extend(default_parts(exceptions, message))
            else:
                parts.append("custom:" + str(entry))
    else:
        parts = default_parts(exceptions, message)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
