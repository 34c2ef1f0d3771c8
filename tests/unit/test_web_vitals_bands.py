"""Web vitals rated as Google rates them, pages ranked worst first, and a page's URL
path written as a search that reads back as the same path."""

from __future__ import annotations

import pytest

from glasspane.filters import Cmp
from glasspane.query.metric_view import format_value
from glasspane.query.search import parse
from glasspane.query.web_vitals import band, page_query, pages
from glasspane.store.models import WebVitalStats


@pytest.mark.parametrize(
    ("vital", "value", "expected"),
    [
        ("lcp", 2500.0, "good"),
        ("lcp", 2500.1, "needs-improvement"),
        ("lcp", 4000.0, "needs-improvement"),
        ("lcp", 4000.1, "poor"),
        ("fcp", 1800.0, "good"),
        ("fcp", 3000.1, "poor"),
        ("cls", 0.1, "good"),
        ("cls", 0.25, "needs-improvement"),
        ("cls", 0.26, "poor"),
        ("inp", 200.0, "good"),
        ("inp", 500.1, "poor"),
        ("ttfb", 800.0, "good"),
        ("ttfb", 1800.0, "needs-improvement"),
        ("ttfb", 1800.1, "poor"),
    ],
)
def test_bands_at_their_limits(vital: str, value: float, expected: str) -> None:
    assert band(vital, value) == expected


def row(page: str, vital: str, p75: float) -> WebVitalStats:
    return WebVitalStats(page, page, "web", 1, vital, 4, p75, 2, 1, 1)


def test_pages_rank_by_their_worst_vital_against_its_good_limit() -> None:
    ranked = pages(
        [
            row("/a", "lcp", 5000.0),  # 2.0 × good
            row("/b", "cls", 0.3),  # 3.0 × good
            row("/b", "lcp", 1000.0),
            row("/c", "inp", 100.0),  # 0.5 × good
        ]
    )
    assert [(p["page"], p["worst"], p["band"]) for p in ranked] == [
        ("/b", "cls", "poor"),
        ("/a", "lcp", "poor"),
        ("/c", "inp", "good"),
    ]
    assert list(ranked[0]["vitals"]) == ["lcp", "cls"]
    assert ranked[0]["vitals"]["cls"]["good"] == 0.5


@pytest.mark.parametrize("path", ["/", "/docs/a b", '/q"uote', "/back\\slash\\", '/"'])
def test_page_query_reads_back_as_the_path(path: str) -> None:
    assert parse(page_query(path, "Pageload") or "", 0.0) == Cmp("url.path", "=", path)
    assert page_query("/upload", "/upload") is None


@pytest.mark.parametrize(
    ("value", "unit", "stat", "shown"),
    [
        (8200.0, "millisecond", "", "8.2s"),
        (200.0, "millisecond", "", "200ms"),
        (8.2, "second", "", "8.2s"),
        (18.0, None, "rate", "18/min"),
        (1536.0, "byte", "", "1.54 kB"),
        (0.25, "ratio", "", "25%"),
        (3.0, "none", "", "3"),
        (12345.0, "widget", "", "12,345 widget"),
        (None, "millisecond", "", "–"),
    ],
)
def test_metric_values_read_with_their_unit(
    value: float | None, unit: str | None, stat: str, shown: str
) -> None:
    assert format_value(value, unit, stat) == shown
