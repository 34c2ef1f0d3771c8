"""What the transaction summary adds to a transaction's numbers: each tag's
spread over its events, and the suspect spans (the span kinds whose time per
transaction grew most against the equal-length period before the window).

Both read the window already narrowed to the transaction
(:func:`glasspane.query.performance.one_transaction`); counts are weighted by
1 / sample rate like every other count (docs/semantics.md).
"""

from __future__ import annotations

import statistics
from typing import Any

from glasspane.filters import Cmp, all_of, conjuncts
from glasspane.query import performance
from glasspane.query.issues import TOP_TAG_VALUES, tag_json
from glasspane.query.spans import group_terms
from glasspane.store.api import AnalyticsReader
from glasspane.store.models import SuspectSpan, Window

#: Suspect span kinds listed, the largest growth first.
SUSPECT_SPANS = 10


def transaction_tags(store: AnalyticsReader, w: Window) -> dict[str, Any]:
    """``{tags: [...]}``: each tag's top values over the window's transactions, with
    their shares of the transactions that carry the tag (as the issue page's)."""
    return {"tags": [tag_json(t) for t in store.transaction_tags(w, TOP_TAG_VALUES)]}


def suspect_spans(
    store: AnalyticsReader, w: Window, transaction: str, limit: int = SUSPECT_SPANS
) -> dict[str, Any]:
    """``{suspect_spans: [...]}``, each with the span explorer ``query`` that lists
    the kind's spans in ``transaction``."""
    found = store.suspect_spans(w, limit)
    return {"suspect_spans": [suspect_json(s, transaction) for s in found]}


def suspect_json(spans: SuspectSpan, transaction: str) -> dict[str, Any]:
    before = spans.before_ms_per_tx
    change = (spans.ms_per_tx - before) / before * 100 if before else None
    keys = [("transaction", transaction), ("span.op", spans.op)]
    keys.append(("span.description", spans.description))
    known = [(k, v) for k, v in keys if v]
    terms = group_terms(tuple(k for k, _ in known), tuple(v for _, v in known))
    return {
        "op": spans.op,
        "description": spans.description,
        "avg_ms_per_transaction": round(spans.ms_per_tx, 3),
        "before_avg_ms_per_transaction": round(before, 3),
        "change_ms": round(spans.ms_per_tx - before, 3),
        "change_pct": None if change is None else round(change, 1),
        "count_per_transaction": round(spans.per_tx, 3),
        "before_count_per_transaction": round(spans.before_per_tx, 3),
        "samples": spans.samples,
        "query": terms or "",
    }


def slowest_and_typical(
    store: AnalyticsReader, w: Window, durations_ms: list[float]
) -> tuple[str, str] | None:
    """The trace ids of the window's slowest trace and of a typical one (the slowest
    at or under the median of ``durations_ms``), to compare; ``None`` when there are
    not two different ones."""
    slowest = performance.traces(store, w, "-duration", 1)["traces"]
    if not slowest or not durations_ms:
        return None
    median = Cmp("duration", "<=", statistics.median(durations_ms))
    at_most_median = Window(w.start, w.end, all_of([*conjuncts(w.filter), median]))
    typical = performance.traces(store, at_most_median, "-duration", 1)["traces"]
    if not typical or typical[0]["trace_id"] == slowest[0]["trace_id"]:
        return None
    return slowest[0]["trace_id"], typical[0]["trace_id"]
