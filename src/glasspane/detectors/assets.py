"""Browser asset detectors, with Sentry's documented defaults (:data:`DEFAULTS`).

Both read the resource spans the browser SDK makes of a page's scripts and
stylesheets (``op`` ``resource.script``, ``resource.link``, ``resource.css``) and
the sizes it copies from the Resource Timing API (see :class:`SpanFacts`).

``uncompressed_asset``: an asset sent as is (its encoded size equals its decoded
size) that is larger than ``min_size_bytes`` and took at least
``min_duration_ms``, in a page where some other asset did arrive compressed (so
the browser did ask for compression).

``render_blocking_asset``: an asset the browser waited for before the first
paint (``resource.render_blocking_status`` ``blocking``, or not reported), larger
than ``min_size_bytes``, that started before the first contentful paint and took
at least ``min_fcp_ratio`` of it, in a page whose FCP lies between
``min_fcp_ms`` and ``max_fcp_ms`` (beyond that, the page is an outlier).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from glasspane.detectors.http import mask_url
from glasspane.detectors.spans import Finding, Limits, SpanFacts, Transaction

DEFAULTS: dict[str, dict[str, float]] = {
    "uncompressed_asset": {"min_size_bytes": 512 * 1024, "min_duration_ms": 500.0},
    "render_blocking_asset": {
        "min_size_bytes": 500 * 1024,
        "min_fcp_ratio": 0.33,
        "min_fcp_ms": 2000.0,
        "max_fcp_ms": 10000.0,
    },
}
ASSET_OPS = frozenset({"resource.script", "resource.link", "resource.css"})
_NO_TRANSACTION = Transaction()

#: Pages load the same assets again and again: mask each URL once (bounded).
_masked = lru_cache(maxsize=1024)(mask_url)


def _assets(spans: Sequence[SpanFacts]) -> list[SpanFacts]:
    return [s for s in spans if s.op in ASSET_OPS and s.description and s.encoded_size]


def _finding(kind: str, title: str, span: SpanFacts) -> Finding:
    statement = _masked(span.description or "")
    return Finding(kind, title, statement, (span.span_id,), 1, span.duration_ms, span.encoded_size)


def uncompressed_asset(
    spans: Sequence[SpanFacts],
    transaction: Transaction = _NO_TRANSACTION,
    limits: Limits = DEFAULTS["uncompressed_asset"],
) -> list[Finding]:
    """Each large, slow asset that came uncompressed beside compressed ones."""
    assets = _assets(spans)
    if not any(s.decoded_size and s.decoded_size > (s.encoded_size or 0) for s in assets):
        return []
    return [
        _finding("uncompressed_asset", "Uncompressed Asset", s)
        for s in assets
        if s.encoded_size == s.decoded_size
        and (s.encoded_size or 0) > limits["min_size_bytes"]
        and s.duration_ms >= limits["min_duration_ms"]
    ]


def render_blocking_asset(
    spans: Sequence[SpanFacts],
    transaction: Transaction = _NO_TRANSACTION,
    limits: Limits = DEFAULTS["render_blocking_asset"],
) -> list[Finding]:
    """Each large asset that held back the first contentful paint."""
    fcp = transaction.fcp_ms
    if fcp is None or not limits["min_fcp_ms"] <= fcp <= limits["max_fcp_ms"]:
        return []
    painted = transaction.start + fcp / 1000
    return [
        _finding("render_blocking_asset", "Large Render Blocking Asset", s)
        for s in _assets(spans)
        if s.render_blocking in (None, "blocking")
        and (s.encoded_size or 0) > limits["min_size_bytes"]
        and s.start < painted
        and s.duration_ms >= limits["min_fcp_ratio"] * fcp
    ]
