"""What the performance analytics of every backend share: the definitions
(a failed transaction, Apdex, the trace sort keys) as SQL both dialects accept,
and result rows → read models.

Each backend's ``analytics.py`` writes its own SQL around these. Segments
(``is_segment``) are the transactions. Counts are weighted by 1 / sample
rate; percentiles, rates and Apdex are per sample (docs/semantics.md). Percentiles are
exact and interpolate linearly between order statistics, on both backends.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from glasspane.domain import NON_FAILING_STATUSES
from glasspane.store.issues import IDENTITY
from glasspane.store.models import ImpactStats, SeriesPoint, TransactionStats, Window

_OK = ", ".join(f"'{s}'" for s in sorted(NON_FAILING_STATUSES))
#: A transaction failed: its status is none of the non-failing ones.
FAILED = f"(status NOT IN ({_OK}))"
#: Apdex over rows that carry their project's threshold as ``apdex_t``.
APDEX = (
    "(count(*) FILTER (WHERE duration_ms <= apdex_t)"
    " + count(*) FILTER (WHERE duration_ms > apdex_t AND duration_ms <= 4 * apdex_t) / 2.0)"
    " / count(*)"
)
#: ``sort`` of :meth:`~glasspane.store.api.AnalyticsReader.trace_summaries` (without its
#: ``-``) → the column it orders by.
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


def impact_of(
    cur: Any,
    segments: str,
    params: list[Any],
    errors_where: str,
    error_params: list[Any],
    window: Window,
) -> ImpactStats:
    """Users and transactions among the failing ``segments`` and the matching error
    events of the window (the SQL is the same in both dialects). Transactions are
    weighted by 1 / sample rate like every count; users are distinct identities."""
    affected = f"""
        SELECT {IDENTITY} AS who, browser_name, os_name, country_code,
               1.0 / sample_rate AS weight
        FROM {segments} WHERE {FAILED}
        UNION ALL
        SELECT {IDENTITY}, browser_name, os_name, country_code, 0.0
        FROM errors WHERE "timestamp" >= ? AND "timestamp" < ? AND {errors_where}"""
    base = [*params, window.start, window.end, *error_params]
    users, transactions = cur.execute(
        f"SELECT count(DISTINCT who), coalesce(sum(weight), 0) FROM ({affected})", base
    ).fetchone() or (0, 0.0)

    def by(column: str) -> dict[str, int]:
        rows = cur.execute(
            f"""SELECT {column}, count(DISTINCT who) FROM ({affected})
                WHERE {column} IS NOT NULL AND who IS NOT NULL
                GROUP BY {column} ORDER BY 2 DESC, 1""",
            base,
        ).fetchall()
        return {str(key): int(n) for key, n in rows}

    return ImpactStats(
        int(users), float(transactions), by("country_code"), by("browser_name"), by("os_name")
    )
