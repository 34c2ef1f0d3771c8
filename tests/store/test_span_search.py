"""Span-level search keys in the traces, transactions and impact reads, on every backend.

A trace or a transaction matches when one of its spans meets all the span-level
terms together (``span.op``, ``span.description``, ``span.status``,
``span.duration``, tags of any span); free text matches any span's description.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from glasspane.domain import Batch, Span, User
from glasspane.query.search import parse
from glasspane.store.api import Store
from glasspane.store.models import Window
from store.backends import BACKENDS, drop, open_backend, store_url

START = 1_800_000_000.0
WINDOW_END = START + 3600


def span(
    trace: str,
    name: str,
    transaction: str,
    op: str,
    description: str,
    offset_s: float,
    duration_ms: float,
    *,
    parent: str | None = None,
    status: str = "ok",
    tags: dict[str, str] | None = None,
    email: str | None = None,
) -> Span:
    span_id = name.encode().hex().rjust(16, "0")
    parent_id = parent.encode().hex().rjust(16, "0") if parent else None
    start = START + offset_s
    return Span(
        project_id=1,
        trace_id=trace * 32,
        span_id=span_id,
        parent_span_id=parent_id,
        segment_id=parent_id or span_id,
        is_segment=parent is None,
        transaction=transaction,
        op=op,
        description=description,
        status=status,
        start_timestamp=start,
        timestamp=start + duration_ms / 1000,
        service="blockchain" if transaction == "registerOnBlockchain" else "auth",
        tags=tags or {},
        user=User(email=email),
    )


#: Trace a: a slow register whose child waited 9 s for a confirmation (and failed).
#: Trace b: a fast register whose child waited 0.1 s for a receipt.
#: Trace c: a login without children.
SPANS = [
    span("a", "ra", "registerOnBlockchain", "http.server", "POST /register", 10, 12000,
         status="internal_error", email="ann@example.com"),
    span("a", "wa", "registerOnBlockchain", "blockchain.wait", "Wait for confirmation", 11, 9000,
         parent="ra", status="deadline_exceeded", tags={"chain": "base-sepolia"}),
    span("a", "qa", "registerOnBlockchain", "db.query", "SELECT * FROM users", 10.5, 5,
         parent="ra"),
    span("b", "rb", "registerOnBlockchain", "http.server", "POST /register", 20, 300,
         email="bob@example.com"),
    span("b", "wb", "registerOnBlockchain", "blockchain.wait", "Wait for receipt", 20.1, 100,
         parent="rb", tags={"chain": "mainnet"}),
    span("c", "rc", "login", "http.server", "POST /login", 30, 50, status="internal_error",
         email="cy@example.com"),
]  # fmt: skip
TRACE = {letter: letter * 32 for letter in "abc"}


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    backend = str(request.param)
    folder = tmp_path_factory.mktemp(f"span-search-{backend}")
    url = store_url(backend, folder)
    opened = open_backend(backend, folder, url)
    try:
        opened.create_project("chain", "c" * 32, 300.0)
        opened.write(Batch(spans=SPANS)).result(timeout=10)
        yield opened
    finally:
        opened.close()
        if backend == "clickhouse":
            drop(url)


def window(query: str) -> Window:
    return Window(START, WINDOW_END, parse(query, START))


def traces(store: Store, query: str) -> set[str]:
    rows = store.trace_summaries(window(query), None, "-timestamp", 50)
    return {next(k for k, v in TRACE.items() if v == row.trace_id) for row in rows}


def transactions(store: Store, query: str) -> dict[str, int]:
    return {row.transaction: row.samples for row in store.transaction_stats(window(query))}


CASES: list[tuple[str, set[str]]] = [
    # the cases: a child span matches, the root does not
    ("span.op:blockchain.wait", {"a", "b"}),
    ("span.description:Wait*", {"a", "b"}),
    ("confirmation", {"a"}),
    ('"for receipt"', {"b"}),
    # one span meets all the span-level terms together
    ("span.op:blockchain.wait span.duration:>1s", {"a"}),
    ("span.op:db.query span.duration:>1s", set()),  # the slow span is not the db one
    ("span.op:blockchain.wait span.status:deadline_exceeded", {"a"}),
    ("span.op:db.query span.status:deadline_exceeded", set()),
    ("span.description:*confirmation chain:base-sepolia", {"a"}),
    ("span.description:*receipt chain:base-sepolia", set()),
    ("chain:mainnet", {"b"}),
    # the root span is one of the spans too
    ("span.op:http.server", {"a", "b", "c"}),
    ("span.description:*login", {"c"}),
    # terms of the transaction stay on the transaction
    ("transaction:registerOnBlockchain span.op:db.query", {"a"}),
    ("transaction.duration:<1s span.op:blockchain.wait", {"b"}),
    ("status:internal_error span.op:blockchain.wait", {"a"}),
    # OR and negation: "no span that ..."
    ("span.op:db.query OR span.description:*login", {"a", "c"}),
    ("!span.op:db.query", {"b", "c"}),
    ("!span.status:deadline_exceeded transaction:registerOnBlockchain", {"b"}),
    ("!confirmation", {"b", "c"}),
    ("span.op:blockchain.wait !span.status:ok", {"a"}),  # one span: waiting, not ok
    ("span.op:db.query !span.status:ok", set()),
]


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[q for q, _ in CASES])
def test_traces_match_on_any_span(store: Store, query: str, expected: set[str]) -> None:
    assert traces(store, query) == expected


def test_transactions_match_on_their_own_spans(store: Store) -> None:
    assert transactions(store, "span.op:blockchain.wait") == {"registerOnBlockchain": 2}
    assert transactions(store, "confirmation") == {"registerOnBlockchain": 1}
    assert transactions(store, "span.description:Wait* span.duration:>=9s") == {
        "registerOnBlockchain": 1
    }
    assert transactions(store, "span.op:blockchain.wait span.duration:>=10s") == {}
    assert transactions(store, "span.op:http.server") == {"registerOnBlockchain": 2, "login": 1}


def test_impact_counts_the_transactions_with_a_matching_span(store: Store) -> None:
    impact = store.impact(window("span.op:blockchain.wait"))
    assert (impact.transactions, impact.users) == (1, 1)  # only ann's register failed
    assert store.impact(window("span.description:*login")).transactions == 1
    assert store.impact(window("span.op:db.query chain:mainnet")).transactions == 0


def test_matching_span_ids_are_the_spans_a_trace_page_highlights(store: Store) -> None:
    def matched(query: str, trace: str = "a") -> set[str]:
        ids = store.matching_span_ids(TRACE[trace], parse(query, START))
        return {bytes.fromhex(i).decode().lstrip("\0") for i in ids}

    assert matched("span.op:blockchain.wait") == {"wa"}
    assert matched("confirmation transaction:registerOnBlockchain") == {"wa"}
    assert matched("span.duration:>1s") == {"ra", "wa"}
    assert matched("span.op:blockchain.wait span.duration:>1s", "b") == set()
    assert matched("span.op:db.query !span.status:deadline_exceeded") == {"qa"}
    assert matched("transaction:registerOnBlockchain") == set()  # no span-level term
    assert matched("!span.op:db.query") == set()  # "no such span" marks nothing
