"""Which error events are the same bug: the grouping fingerprint.

Default parts, per exception in the chain: the type plus the in-app frames'
module (else file name) and function, never line numbers, so the same bug
raised from another line or loop iteration of a function groups together. With
no in-app frames all frames are used; with no frames, the type and the message
(its first 4 KiB: enough to tell bugs apart) with its variable parts masked.
The SDK's own ``fingerprint`` wins, and its ``{{ default }}`` entry stands for
the default parts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Any

from glasspane.domain import ExceptionInfo, Frame

#: Grouping needs only the start of a message; masking looks at this many characters.
MASK_PREFIX = 4096


def _email(match: re.Match[str]) -> str:
    return "<email>" if match.group(1) else match.group(0)


# Every mask runs in time linear in its input, whatever the input (issue J).
# Possessive quantifiers (``++``) never give back what they took, and no pattern
# may start a match at every position of a long run: the e-mail mask consumes
# each run of local-part characters whole (a callback keeps those not followed
# by ``@domain``), and the hex-word mask may start only at a word boundary, where
# its lookaheads stop at the first digit / letter. Each gives the same result as
# the plain pattern it replaced (kept in tests/unit/test_linear_time.py).
_MASKS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"[\w.+-]++(@[\w-]++(?:\.[\w-]++)+)?"), _email),
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
            r"[0-9a-fA-F]{12}\b"
        ),
        "<uuid>",
    ),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b"), "<ip>"),
    (re.compile(r"\b0x[0-9a-fA-F]++\b"), "<hex>"),
    (re.compile(r"\b(?=[a-fA-F]*+\d)(?=\d*+[a-fA-F])[0-9a-fA-F]++\b"), "<hex>"),
    (re.compile(r"\d++(?:\.\d++)?"), "<num>"),
)
_DEFAULT = re.compile(r"^\{\{\s*default\s*\}\}$")


def mask(message: str, prefix: int = MASK_PREFIX) -> str:
    """The message's first ``prefix`` characters with numbers, hex, UUIDs, emails
    and IPs replaced by placeholders."""
    message = message[:prefix]
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
