"""Web vitals on every backend: the p75 of each vital per page and the band counts,
against an exact computation over the same page loads."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from glasspane.domain import Batch, Span
from glasspane.query import web_vitals
from glasspane.query.search import parse
from glasspane.store.api import Store
from glasspane.store.models import Window
from store.backends import BACKENDS, drop, open_backend, store_url
from store.test_analytics import exact_quantile

START = 1_800_000_000.0
#: LCP per load of /upload: two good, one needing improvement, two poor.
UPLOAD_LCP = [1200.0, 2400.0, 3100.0, 4500.0, 9000.0]
UPLOAD_CLS = [0.02, 0.3, 0.05, 0.12, 0.01]
HOME_LCP = [900.0, 1100.0]


def load(
    name: str,
    op: str,
    at: float,
    measurements: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> Span:
    span_id = uuid.uuid4().hex[:16]
    return Span(
        project_id=1,
        trace_id=uuid.uuid4().hex,
        span_id=span_id,
        parent_span_id=None,
        segment_id=span_id,
        is_segment=True,
        transaction=name,
        op=op,
        description=name,
        status="ok",
        start_timestamp=at,
        timestamp=at + 2.0,
        service="web",
        sample_rate=1.0,
        measurements=measurements or {},
        data=data or {},
        tags=tags or {},
    )


def child(parent: Span, op: str, data: dict[str, Any]) -> Span:
    return replace(
        parent,
        span_id=uuid.uuid4().hex[:16],
        parent_span_id=parent.span_id,
        segment_id=parent.span_id,
        is_segment=False,
        op=op,
        data=data,
        measurements={},
    )


def spans() -> list[Span]:
    out = []
    for i, (lcp, cls) in enumerate(zip(UPLOAD_LCP, UPLOAD_CLS, strict=True)):
        vitals = {"lcp": {"value": lcp, "unit": "millisecond"}, "cls": {"value": cls, "unit": ""}}
        if i == 0:
            vitals["ttfb"] = {"value": 120.0, "unit": "millisecond"}
        out.append(load("/upload", "pageload" if i % 2 else "navigation", START + i, vitals))
    # Span streaming (@sentry/browser 11): every page load is named "Pageload", the
    # page is its url.path; FCP is an attribute of the pageload span, LCP one of a
    # ui.webvital.lcp span of its segment.
    for i, lcp in enumerate(HOME_LCP):
        # (string attributes are also the span's tags, as the normalizer keeps them)
        page = load(
            "Pageload", "pageload", START + 10 + i, {}, {"url.path": "/"}, {"url.path": "/"}
        )
        page.data["browser.web_vital.fcp.value"] = 300.0
        out += [page, child(page, "ui.webvital.lcp", {"browser.web_vital.lcp.value": lcp})]
    # A web vital span whose page load is another's does not count for this one.
    other = load("Pageload", "http.server", START, data={"url.path": "/"})
    out += [other, child(other, "ui.webvital.lcp", {"browser.web_vital.lcp.value": 1e6})]
    # Not a page load: its measurement is not a page's vital.
    out.append(load("POST /upload", "http.server", START, {"lcp": {"value": 99_000.0}}))
    return out


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    backend = str(request.param)
    folder = tmp_path_factory.mktemp(f"vitals-{backend}")
    url = store_url(backend, folder)
    opened = open_backend(backend, folder, url)
    try:
        opened.write(Batch(spans=spans())).result(timeout=30)
        yield opened
    finally:
        opened.close()
        if backend == "clickhouse":
            drop(url)


def test_p75_and_bands_per_page_worst_first(store: Store) -> None:
    answer = web_vitals.web_vitals(store, Window(START - 60, START + 60))
    upload, home = answer["pages"]
    assert (upload["page"], upload["transaction"], upload["page_query"]) == (
        "/upload",
        "/upload",
        None,
    )
    assert (home["page"], home["transaction"], home["page_query"]) == (
        "/",
        "Pageload",
        'url.path:"/"',
    )
    lcp = upload["vitals"]["lcp"]
    assert lcp["p75"] == pytest.approx(exact_quantile(UPLOAD_LCP, 0.75))  # 4500 ms
    assert lcp["band"] == "poor"
    assert (lcp["samples"], lcp["good"], lcp["needs_improvement"], lcp["poor"]) == (
        5,
        pytest.approx(2 / 5),
        pytest.approx(1 / 5),
        pytest.approx(2 / 5),
    )
    cls = upload["vitals"]["cls"]
    assert cls["p75"] == pytest.approx(exact_quantile(UPLOAD_CLS, 0.75))  # 0.12
    assert (cls["band"], cls["good"], cls["needs_improvement"], cls["poor"]) == (
        "needs-improvement",
        pytest.approx(3 / 5),
        pytest.approx(1 / 5),
        pytest.approx(1 / 5),
    )
    assert upload["vitals"]["ttfb"] == {
        "p75": 120.0,
        "band": "good",
        "samples": 1,
        "good": 1.0,
        "needs_improvement": 0.0,
        "poor": 0.0,
    }
    assert list(upload["vitals"]) == ["lcp", "cls", "ttfb"]
    assert (upload["worst"], upload["band"], upload["page_loads"]) == ("lcp", "poor", 5)
    assert home["vitals"]["lcp"]["p75"] == pytest.approx(exact_quantile(HOME_LCP, 0.75))
    assert home["vitals"]["lcp"]["samples"] == 2
    assert home["vitals"]["fcp"]["p75"] == 300.0
    assert home["band"] == "good"


def test_the_page_query_narrows_to_one_page(store: Store) -> None:
    w = Window(START - 60, START + 60, parse('transaction:Pageload url.path:"/"', START))
    [home] = web_vitals.web_vitals(store, w)["pages"]
    assert (home["page"], home["vitals"]["lcp"]["samples"]) == ("/", 2)


def test_search_narrows_the_page_loads(store: Store) -> None:
    w = Window(START - 60, START + 60, parse("transaction:/upload span.op:pageload", START))
    [upload] = web_vitals.web_vitals(store, w)["pages"]
    # Loads 1 and 3 are the pageloads: 2400 and 4500 ms.
    assert upload["vitals"]["lcp"]["samples"] == 2
    assert upload["vitals"]["lcp"]["p75"] == pytest.approx(exact_quantile([2400, 4500], 0.75))
