"""Performance detectors: pure functions over one finished transaction's spans.

Each detector takes the transaction's spans (:class:`SpanFacts`, in start
order) and returns the :class:`Finding` s it sees; the store's writer turns
findings into performance issues (``store/group_rows.py``). No I/O, no
database: the tests are tables of spans.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from glasspane.detectors.db import n_plus_one_db_queries, slow_db_query
from glasspane.detectors.http import mask_url, n_plus_one_api_calls
from glasspane.detectors.spans import Finding, SpanFacts, mask_statement

Detector = Callable[[Sequence[SpanFacts]], list[Finding]]

#: Every detector, by the issue ``type`` it reports.
DETECTORS: dict[str, Detector] = {
    "n_plus_one_db_queries": n_plus_one_db_queries,
    "slow_db_query": slow_db_query,
    "n_plus_one_api_calls": n_plus_one_api_calls,
}


def detect(spans: Sequence[SpanFacts]) -> list[Finding]:
    """Every detector's findings over one transaction's spans."""
    ordered = sorted(spans, key=lambda s: (s.start, s.end))
    return [finding for detector in DETECTORS.values() for finding in detector(ordered)]


__all__ = ["DETECTORS", "Finding", "SpanFacts", "detect", "mask_statement", "mask_url"]
