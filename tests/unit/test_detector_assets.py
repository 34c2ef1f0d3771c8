"""``large_http_payload``, ``uncompressed_asset`` and ``render_blocking_asset`` at
their thresholds (Sentry's defaults)."""

from __future__ import annotations

import pytest

from glasspane.detectors import SpanFacts, Transaction, detect
from glasspane.detectors.assets import render_blocking_asset, uncompressed_asset
from glasspane.detectors.http import large_http_payload

KB = 1024


def _span(
    op: str,
    url: str,
    ms: float,
    encoded: int | None,
    decoded: int | None = None,
    start_ms: float = 100,
    blocking: str | None = None,
    span_id: str = "a1",
) -> SpanFacts:
    return SpanFacts(
        span_id,
        "page",
        op,
        url,
        ms,
        start_ms / 1000,
        (start_ms + ms) / 1000,
        encoded,
        decoded,
        blocking,
    )


def _fetch(
    size: int | None, ms: float = 150, url: str = "GET https://api.example/cases/42/report"
) -> SpanFacts:
    return _span("http.client", url, ms, size)


def test_a_fetch_of_more_than_300_kb_is_a_large_payload() -> None:
    [finding] = large_http_payload([_fetch(300 * KB + 1)])
    assert (finding.type, finding.title) == ("large_http_payload", "Large HTTP Payload")
    assert finding.statement == "GET https://api.example/cases/*/report"
    assert finding.size_bytes == 300 * KB + 1
    assert finding.span_ids == ("a1",) and finding.duration_ms == 150


@pytest.mark.parametrize(
    "span",
    [
        _fetch(300 * KB),  # not more than 300 KB
        _fetch(2_000_000, ms=99.9),  # faster than 100 ms
        _fetch(None),  # no size reported
        _fetch(2_000_000, url="GET https://cdn.example/app.js"),  # a static file
        _fetch(2_000_000, url="GET https://a.example/_next/data/x/page"),
    ],
)
def test_small_fast_or_static_responses_are_no_large_payload(span: SpanFacts) -> None:
    assert large_http_payload([span]) == []


def test_a_json_file_is_a_payload() -> None:
    assert (
        len(large_http_payload([_fetch(400 * KB, url="GET https://a.example/data.json?v=2")])) == 1
    )


def _page(big: SpanFacts) -> list[SpanFacts]:
    """``big`` beside a small stylesheet that did arrive compressed."""
    return [
        big,
        _span("resource.link", "https://app.example/site.css", 20, 2 * KB, 9 * KB, span_id="c1"),
    ]


def test_a_large_slow_uncompressed_script_beside_a_compressed_one() -> None:
    script = _span(
        "resource.script", "https://app.example/static/bundle.js", 600, 600 * KB, 600 * KB
    )
    [finding] = uncompressed_asset(_page(script))
    assert (finding.type, finding.title) == ("uncompressed_asset", "Uncompressed Asset")
    assert finding.statement == "https://app.example/static/bundle.js"
    assert finding.size_bytes == 600 * KB and finding.duration_ms == 600


@pytest.mark.parametrize(
    "pages",
    [
        _page(_span("resource.script", "/b.js", 600, 512 * KB, 512 * KB)),  # not over 512 KB
        _page(_span("resource.script", "/b.js", 499.9, 600 * KB, 600 * KB)),  # under 500 ms
        _page(_span("resource.script", "/b.js", 600, 600 * KB, 1800 * KB)),  # compressed
        [_span("resource.script", "/b.js", 600, 600 * KB, 600 * KB)],  # nothing compressed
        _page(_span("resource.img", "/b.png", 600, 600 * KB, 600 * KB)),  # not a script or css
    ],
)
def test_no_uncompressed_asset_under_the_thresholds(pages: list[SpanFacts]) -> None:
    assert uncompressed_asset(pages) == []


PAGE = Transaction(start=0.0, duration_ms=5000, fcp_ms=3000)


def _css(
    ms: float = 1000, size: int = 600 * KB, start_ms: float = 100, blocking: str | None = "blocking"
) -> SpanFacts:
    return _span(
        "resource.link", "https://app.example/theme.css?v=3", ms, size, size * 4, start_ms, blocking
    )


def test_a_large_stylesheet_taking_a_third_of_the_fcp_blocks_rendering() -> None:
    [finding] = render_blocking_asset([_css(ms=990)], PAGE)
    assert (finding.type, finding.title) == ("render_blocking_asset", "Large Render Blocking Asset")
    assert finding.statement == "https://app.example/theme.css?v=*"
    assert finding.size_bytes == 600 * KB
    assert render_blocking_asset([_css(blocking=None)], PAGE) != []  # status not reported


@pytest.mark.parametrize(
    ("span", "transaction"),
    [
        (_css(ms=989), PAGE),  # under 33 % of the 3000 ms FCP
        (_css(size=500 * KB), PAGE),  # not over 500 KB
        (_css(blocking="non-blocking"), PAGE),
        (_css(start_ms=3000), PAGE),  # started after the first paint
        (_css(), Transaction(0.0, 5000, 1999)),  # FCP under 2 s
        (_css(ms=4000), Transaction(0.0, 15000, 10001)),  # FCP over 10 s: an outlier
        (_css(), Transaction(0.0, 5000, None)),  # no FCP measured
    ],
)
def test_no_render_blocking_asset_under_the_thresholds(
    span: SpanFacts, transaction: Transaction
) -> None:
    assert render_blocking_asset([span], transaction) == []


def test_detect_passes_the_transaction_to_the_asset_detectors() -> None:
    found = detect(_page(_span("resource.script", "/app.js", 1200, 900 * KB, 900 * KB)), PAGE)
    assert sorted(f.type for f in found) == ["render_blocking_asset", "uncompressed_asset"]
