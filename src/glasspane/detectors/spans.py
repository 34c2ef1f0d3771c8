"""What the detectors see of a span and its transaction, what they find, and
statement masking."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

#: One detector's thresholds by name (``min_repeats``, ``min_total_ms``, ...).
Limits = Mapping[str, float]


@dataclass(frozen=True, slots=True)
class SpanFacts:
    """The parts of a span the detectors read (``start`` and ``end`` in seconds).

    The sizes come from the span's data, as the browser SDK reports them:
    ``encoded_size`` is ``http.response_content_length`` (the body as sent, after
    any compression; ``http.response_transfer_size`` when it is missing),
    ``decoded_size`` is ``http.decoded_response_content_length``, and
    ``render_blocking`` is ``resource.render_blocking_status``."""

    span_id: str
    parent_span_id: str | None
    op: str | None
    description: str | None
    duration_ms: float
    start: float
    end: float
    encoded_size: int | None = None
    decoded_size: int | None = None
    render_blocking: str | None = None

    @property
    def is_db(self) -> bool:
        return self.op is not None and self.op.startswith("db") and bool(self.description)


@dataclass(frozen=True, slots=True)
class Transaction:
    """The parts of the transaction (its segment span) the detectors read:
    ``start`` in seconds, the first contentful paint in milliseconds after it
    (browser page loads only)."""

    start: float = 0.0
    duration_ms: float = 0.0
    fcp_ms: float | None = None


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
    size_bytes: int | None = None


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
