"""What the detectors see of a span, what they find, and statement masking."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SpanFacts:
    """The parts of a span the detectors read (``start`` and ``end`` in seconds)."""

    span_id: str
    parent_span_id: str | None
    op: str | None
    description: str | None
    duration_ms: float
    start: float
    end: float

    @property
    def is_db(self) -> bool:
        return self.op is not None and self.op.startswith("db") and bool(self.description)


@dataclass(frozen=True, slots=True)
class Finding:
    """One performance problem in one transaction.

    ``statement`` is masked; with the detector's ``type`` and the transaction it
    names the issue the finding belongs to."""

    type: str
    title: str
    statement: str
    span_ids: tuple[str, ...]
    repeated: int
    duration_ms: float


# One pass, one alternation: string literals, hex and decimal numbers, and the
# drivers' placeholders all become "?"; no pattern can backtrack over the text.
_VALUES = re.compile(
    r"'[^']*'"  # string literal ('it''s' is two literals: both become ?)
    r"|\b0[xX][0-9a-fA-F]+\b"
    r"|\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b"
    r"|\$\d+"  # $1 (PostgreSQL)
    r"|%\(\w+\)s|%s"  # pyformat and format
    r"|\?"
)
_LIST = re.compile(r"\(\?(?:, \?)+\)")
_SPACE = re.compile(r"\s+")


def mask_statement(statement: str) -> str:
    """``statement`` with its parameters and literal values masked as ``?``, runs of
    whitespace as one space and ``IN (?, ?, ?)`` lists as ``(?)``."""
    masked = _SPACE.sub(" ", _VALUES.sub("?", statement)).strip()
    return _LIST.sub("(?)", masked)
