"""What the performance analytics of every backend share: the definitions
(a failed transaction, Apdex, the trace sort keys) as SQL both dialects accept,
and result rows → read models.

Each backend's ``analytics.py`` writes its own SQL around these. Segments
(``is_segment``) are the transactions. Counts are weighted by 1 / sample
rate; percentiles, rates and Apdex are per sample (DESIGN.md). Percentiles are
exact and interpolate linearly between order statistics, on both backends.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from glasspane.domain import NON_FAILING_STATUSES
from glasspane.store.api import SeriesPoint, TransactionStats

_OK = ", ".join(f"'{s}'" for s in sorted(NON_FAILING_STATUSES))
#: A transaction failed: its status is none of the non-failing ones.
FAILED = f"(status NOT IN ({_OK}))"
#: Apdex over rows that carry their project's threshold as ``apdex_t``.
APDEX = (
    "(count(*) FILTER (WHERE duration_ms <= apdex_t)"
    " + count(*) FILTER (WHERE duration_ms > apdex_t AND duration_ms <= 4 * apdex_t) / 2.0)"
    " / count(*)"
)
#: ``sort`` of :meth:`Store.trace_summaries` (without its ``-``) → the column it orders by.
TRACE_SORTS = {
    "timestamp": "start_ts",
    "duration": "duration_ms",
    "duration_ms": "duration_ms",
}


def trace_order(sort: str) -> tuple[str, str]:
    """``[-]timestamp|duration`` → (column, ``ASC``/``DESC``)."""
    return TRACE_SORTS[sort.lstrip("-")], "DESC" if sort.startswith("-") else "ASC"


def transaction_stats_rows(rows: Iterable[tuple[Any, ...]]) -> list[TransactionStats]:
    """Rows of (transaction, service, project, samples, count, [p50, p95], failure, apdex)."""
    return [
        TransactionStats(name, service, project, samples, count, p50, p95, failure, apdex)
        for name, service, project, samples, count, (p50, p95), failure, apdex in rows
    ]


def series_rows(rows: Iterable[tuple[Any, ...]]) -> list[SeriesPoint]:
    """Rows of (bucket, samples, count, [p50, p95], failure)."""
    return [
        SeriesPoint(bucket, samples, count, p50, p95, failure)
        for bucket, samples, count, (p50, p95), failure in rows
    ]
