"""Performance issues on every backend: the detectors' findings in the transactions
a write group brings are issues of category ``performance``, beside the error issues."""

from __future__ import annotations

import pytest

from glasspane.domain import Batch, Span, User
from glasspane.query.search import parse
from glasspane.store.api import Store
from glasspane.store.models import IssueSummary, Window
from store.search_data import NOW, TRACES, E, event_id

TRACE = TRACES["T1"]
SEGMENT = "a" * 16


def _span(span_id: str, start: float, ms: float, op: str, description: str, parent: str) -> Span:
    return Span(
        project_id=1,
        trace_id=TRACE,
        span_id=span_id,
        parent_span_id=parent,
        segment_id=SEGMENT,
        is_segment=False,
        transaction="GET /cases/{id}",
        op=op,
        description=description,
        status="ok",
        start_timestamp=start,
        timestamp=start + ms / 1000,
        service="docs",
    )


def transaction(start: float, repeats: int = 6) -> Batch:
    """A request that loads a case's documents, then each document's pages one by
    one (an N+1 of ``repeats`` queries of 12 ms), then runs one 700 ms report query."""
    segment = Span(
        project_id=1,
        trace_id=TRACE,
        span_id=SEGMENT,
        parent_span_id=None,
        segment_id=SEGMENT,
        is_segment=True,
        transaction="GET /cases/{id}",
        op="http.server",
        description=None,
        status="ok",
        start_timestamp=start,
        timestamp=start + 1.0,
        service="docs",
        user=User(id="u1"),
    )
    spans = [segment, _span("b" * 16, start, 3, "db", "SELECT id FROM documents", SEGMENT)]
    spans += [
        _span(
            f"{i:016x}",
            start + 0.01 + i * 0.015,
            12,
            "db",
            f"SELECT * FROM pages WHERE document_id = {i}",
            SEGMENT,
        )
        for i in range(1, repeats + 1)
    ]
    spans.append(
        _span("c" * 16, start + 0.2, 700, "db.query", "SELECT sum(x) FROM r WHERE y > 3", SEGMENT)
    )
    return Batch(spans=spans)


def _issues(store: Store, query: str) -> list[IssueSummary]:
    window = Window(float("-inf"), float("inf"), parse(query, NOW))
    return store.list_issues(window, "-last_seen", 20, 0)


def test_findings_are_performance_issues_with_their_evidence(store: Store) -> None:
    store.write(transaction(NOW - 60)).result(timeout=10)
    store.write(Batch(errors=[E("e1", "A", 30, "KeyError", "'user'", trace="T1").event()])).result(
        timeout=10
    )
    found = {i.type: i for i in _issues(store, "issue.category:performance")}
    assert set(found) == {"n_plus_one_db_queries", "slow_db_query"}
    n1 = found["n_plus_one_db_queries"]
    assert (n1.title, n1.culprit, n1.value) == (
        "N+1 Query",
        "GET /cases/{id}",
        "SELECT * FROM pages WHERE document_id = ?",
    )
    assert (n1.category, n1.count, n1.users) == ("performance", 1, 1)
    latest = store.issue_event(n1.id)
    assert latest is not None and latest["trace_id"] == TRACE
    assert latest["evidence"] == {
        "span_ids": [f"{i:016x}" for i in range(1, 7)],
        "statement": "SELECT * FROM pages WHERE document_id = ?",
        "repeated": 6,
        "duration_ms": pytest.approx(72.0, abs=0.01),
    }
    assert found["slow_db_query"].value == "SELECT sum(x) FROM r WHERE y > ?"
    [error] = _issues(store, "issue.category:error")
    assert (error.type, error.category) == ("KeyError", "error")
    assert [i.type for i in _issues(store, "issue.type:slow_db_query")] == ["slow_db_query"]
    # the trace's errors are the error events only, and its transaction did not fail
    assert [e.event_id for e in store.trace_errors(TRACE)] == [event_id("e1")]


def test_the_same_pattern_again_is_the_same_issue_and_a_join_is_none(store: Store) -> None:
    store.write(transaction(NOW - 120)).result(timeout=10)
    store.write(transaction(NOW - 60, repeats=7)).result(timeout=10)
    [n1] = _issues(store, "issue.type:n_plus_one_db_queries")
    assert (n1.count, n1.total) == (2, 2)
    latest = store.issue_event(n1.id)
    assert latest is not None and latest["evidence"]["repeated"] == 7
    store.set_issue_status(n1.id, "resolved")
    store.write(transaction(NOW - 10, repeats=4)).result(timeout=10)  # 4 repeats: no N+1
    [n1] = _issues(store, "issue.type:n_plus_one_db_queries")
    assert (n1.status, n1.total) == ("resolved", 2)


def test_calls_to_one_url_pattern_are_an_n_plus_one_api_call_issue(store: Store) -> None:
    """A page that fetches each of 11 users from an API in turn, 35 ms a call."""
    batch = transaction(NOW - 60, repeats=1)
    batch.spans += [
        _span(
            f"d{i:015x}",
            NOW - 60 + 0.3 + i * 0.04,
            35,
            "http.client",
            f"GET https://users.internal/v1/users/{1000 + i}?fields=name",
            SEGMENT,
        )
        for i in range(11)
    ]
    store.write(batch).result(timeout=10)
    [api] = _issues(store, "issue.type:n_plus_one_api_calls")
    assert (api.title, api.category, api.culprit, api.value) == (
        "N+1 API Call",
        "performance",
        "GET /cases/{id}",
        "GET https://users.internal/v1/users/*?fields=*",
    )
    latest = store.issue_event(api.id)
    assert latest is not None and latest["evidence"] == {
        "span_ids": [f"d{i:015x}" for i in range(11)],
        "url": "GET https://users.internal/v1/users/*?fields=*",
        "repeated": 11,
        "duration_ms": pytest.approx(385.0, abs=0.01),
    }


@pytest.mark.parametrize("streamed", [False, True])
def test_a_browser_page_load_finds_heavy_assets_from_the_spans_data(
    store: Store, streamed: bool
) -> None:
    """A page load (FCP 2.5 s) whose 700 KB bundle came uncompressed, blocking the
    first paint, beside a compressed stylesheet, and that fetched a 400 KB report.
    ``streamed``: as span-streaming SDKs send it (FCP an attribute of the segment,
    spans named by domain with the URL in ``url.full``)."""
    batch = transaction(NOW - 60, repeats=1)
    segment = batch.spans[0]
    if streamed:
        segment.data = {"browser.web_vital.fcp.value": 2500.0}
    else:
        segment.measurements = {"fcp": {"value": 2500.0, "unit": "millisecond"}}
    bundle, css, report = (
        _span("e" * 16, NOW - 60 + 0.05, 1200, "resource.script", "/static/app.js", SEGMENT),
        _span("f" * 16, NOW - 60 + 0.05, 40, "resource.link", "/static/site.css", SEGMENT),
        _span("9" * 16, NOW - 60 + 1.5, 180, "http.client", "GET /api/reports/77", SEGMENT),
    )
    bundle.data = {
        "http.response_content_length": 700 * 1024,
        "http.decoded_response_content_length": 700 * 1024,
        "resource.render_blocking_status": "blocking",
    }
    css.data = {
        "http.response_content_length": 3000,
        "http.decoded_response_content_length": 12000,
    }
    report.data = {"http.response_content_length": "409600", "type": "fetch"}
    if streamed:
        bundle.description = css.description = report.description = "GET app.example"
        bundle.data["url.full"] = "/static/app.js"
        report.data |= {"url.full": "/api/reports/77", "http.request.method": "GET"}
    batch.spans += [bundle, css, report]
    store.write(batch).result(timeout=10)
    found = {i.type: i for i in _issues(store, "issue.category:performance")}
    assert set(found) == {
        "uncompressed_asset",
        "render_blocking_asset",
        "large_http_payload",
        "slow_db_query",
    }
    assert found["uncompressed_asset"].value == "/static/app.js"
    assert found["render_blocking_asset"].title == "Large Render Blocking Asset"
    assert found["large_http_payload"].value == "GET /api/reports/*"
    latest = store.issue_event(found["large_http_payload"].id)
    assert latest is not None
    assert latest["evidence"] == {
        "span_ids": ["9" * 16],
        "url": "GET /api/reports/*",
        "repeated": 1,
        "duration_ms": pytest.approx(180.0, abs=0.01),
        "size_bytes": 409600,
    }
