"""The queries view on every backend: statements masked and merged, HTTP calls by
domain, counts and times weighted by 1 / sample rate."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from glasspane.domain import Batch, Span
from glasspane.query.queries import domain_of, queries
from glasspane.query.search import parse
from glasspane.store.api import Store
from glasspane.store.models import Window
from store.backends import BACKENDS, open_backend, store_url

START = 1_800_000_000.0


def span(name: str, op: str, description: str, duration_ms: float, rate: float = 1.0) -> Span:
    span_id = name.encode().hex().rjust(16, "0")
    root = b"root".hex().rjust(16, "0")
    return Span(
        project_id=1,
        trace_id=name[0] * 32,
        span_id=span_id,
        parent_span_id=root,
        segment_id=root,
        is_segment=False,
        transaction="checkout",
        op=op,
        description=description,
        status="ok",
        start_timestamp=START + 1,
        timestamp=START + 1 + duration_ms / 1000,
        service="shop",
        tags={},
        sample_rate=rate,
    )


SPANS = [
    span("a1", "db.sql.query", "SELECT * FROM users WHERE id = 1", 100, rate=0.5),
    span("a2", "db", "SELECT * FROM users WHERE id = 2", 300),
    span("a3", "db.query", "SELECT * FROM orders", 50),
    span("b1", "http.client", "GET https://api.stripe.com/v1/charges?x=1", 200, rate=0.25),
    span("b2", "http.client", "POST https://api.stripe.com/v1/refunds", 100),
    span("b3", "http.client", "GET http://inventory:8080/items", 10),
    span("c1", "http.server", "GET /checkout", 500),
    span("c2", "dbx", "not a query", 500),
]


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    backend = str(request.param)
    folder = tmp_path_factory.mktemp(f"queries-{backend}")
    opened = open_backend(backend, folder, store_url(backend, folder))
    try:
        opened.create_project("shop", "d" * 32, 300.0)
        opened.write(Batch(spans=SPANS)).result(timeout=10)
        yield opened
    finally:
        opened.close()


def window(query: str = "") -> Window:
    return Window(START, START + 600, parse(query, START + 600))


def test_statements_are_masked_merged_and_weighted(store: Store) -> None:
    rows = queries(store, window())["queries"]
    assert [(r["statement"], r["calls"], r["total_ms"]) for r in rows] == [
        ("SELECT * FROM users WHERE id = ?", 3.0, 500.0),  # 2 x 100 ms + 1 x 300 ms
        ("SELECT * FROM orders", 1.0, 50.0),
    ]
    assert rows[0]["service"] == "shop" and rows[0]["transaction"] == "checkout"
    assert rows[0]["calls_per_min"] == 0.3  # 3 calls in 10 minutes
    assert rows[1]["p50_ms"] == 50.0 and rows[1]["p95_ms"] == 50.0


def test_http_calls_are_grouped_by_domain(store: Store) -> None:
    rows = queries(store, window())["http"]
    assert [(r["domain"], r["service"], r["calls"], r["total_ms"]) for r in rows] == [
        ("api.stripe.com", "shop", 5.0, 900.0),  # 4 x 200 ms + 1 x 100 ms
        ("inventory", "shop", 1.0, 10.0),
    ]


def test_the_query_narrows_both_lists(store: Store) -> None:
    answer = queries(store, window('span.description:"*orders*"'))
    assert [r["statement"] for r in answer["queries"]] == ["SELECT * FROM orders"]
    assert answer["http"] == []


def test_domain_of_descriptions() -> None:
    assert domain_of("GET https://Api.Example.com:8443/x?y=1") == "api.example.com"
    assert domain_of("GET /relative") == "(unknown)"
    assert domain_of("") == "(unknown)"
    assert domain_of("GET http://[::1/") == "(unknown)"
