"""Performance detectors: pure functions over one finished transaction's spans.

Each detector takes the transaction's spans (:class:`SpanFacts`, in start
order), the :class:`Transaction` they belong to and its thresholds, and returns
the :class:`Finding` s it sees; the store's writer turns findings into
performance issues (``store/group_rows.py``). No I/O, no database: the tests are
tables of spans. A project may change the thresholds or switch a detector off
(:mod:`glasspane.detectors.thresholds`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from glasspane.detectors.assets import render_blocking_asset, uncompressed_asset
from glasspane.detectors.db import consecutive_db_queries, n_plus_one_db_queries, slow_db_query
from glasspane.detectors.http import large_http_payload, mask_url, n_plus_one_api_calls
from glasspane.detectors.spans import Finding, Limits, SpanFacts, Transaction, mask_statement
from glasspane.detectors.thresholds import DEFAULTS, ProjectThresholds, limits

Detector = Callable[[Sequence[SpanFacts], Transaction, Limits], list[Finding]]

#: Every detector, by the issue ``type`` it reports.
DETECTORS: dict[str, Detector] = {
    "n_plus_one_db_queries": n_plus_one_db_queries,
    "slow_db_query": slow_db_query,
    "consecutive_db_queries": consecutive_db_queries,
    "n_plus_one_api_calls": n_plus_one_api_calls,
    "large_http_payload": large_http_payload,
    "uncompressed_asset": uncompressed_asset,
    "render_blocking_asset": render_blocking_asset,
}


def detect(
    spans: Sequence[SpanFacts],
    transaction: Transaction | None = None,
    thresholds: ProjectThresholds | None = None,
) -> list[Finding]:
    """Every enabled detector's findings over one transaction's spans, with the
    project's ``thresholds`` over the defaults."""
    ordered = sorted(spans, key=lambda s: (s.start, s.end))
    context = transaction or Transaction()
    findings: list[Finding] = []
    for kind, detector in DETECTORS.items():
        chosen = limits(kind, thresholds or {})
        if chosen is not None:
            findings += detector(ordered, context, chosen)
    return findings


__all__ = [
    "DEFAULTS",
    "DETECTORS",
    "Finding",
    "ProjectThresholds",
    "SpanFacts",
    "Transaction",
    "detect",
    "mask_statement",
    "mask_url",
]
