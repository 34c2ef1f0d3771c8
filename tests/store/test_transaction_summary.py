"""The transaction summary's reads on every backend: tag breakdowns over the
transaction's events, and suspect spans (span kinds whose time per transaction
grew against the period before), both weighted by 1 / sample rate."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from glasspane.domain import Batch, ClientInfo, Span
from glasspane.query.search import parse
from glasspane.store.api import Store
from glasspane.store.models import SuspectSpan, Window
from store.backends import BACKENDS, drop, open_backend, store_url

START = 1_800_000_000.0
HOUR = 3600.0


def transaction(
    name: str,
    offset_s: float,
    children: list[tuple[str, str, float]],
    *,
    rate: float = 1.0,
    env: str = "production",
    network: str = "mainnet",
    browser: str | None = "Chrome",
) -> list[Span]:
    """A transaction ``name`` starting ``offset_s`` after START with child spans
    ``(op, description, duration_ms)`` one after another."""
    trace, span_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    start = START + offset_s
    end = start + sum(d for _, _, d in children) / 1000 + 0.01
    root = Span(
        project_id=1,
        trace_id=trace,
        span_id=span_id,
        parent_span_id=None,
        segment_id=span_id,
        is_segment=True,
        transaction=name,
        op="http.server",
        description=name,
        status="ok",
        start_timestamp=start,
        timestamp=end,
        service="shop",
        tags={"tier": "gold"},
        environment=env,
        release="shop@1.2",
        client=ClientInfo(browser=browser, os="Linux"),
        sample_rate=rate,
        contexts={"blockchain": {"network": network, "type": "default"}},
    )
    spans, at = [root], start
    for op, description, duration_ms in children:
        spans.append(
            Span(
                project_id=1,
                trace_id=trace,
                span_id=uuid.uuid4().hex[:16],
                parent_span_id=span_id,
                segment_id=span_id,
                is_segment=False,
                transaction=name,
                op=op,
                description=description,
                status="ok",
                start_timestamp=at,
                timestamp=at + duration_ms / 1000,
                service="shop",
                sample_rate=rate,
            )
        )
        at += duration_ms / 1000
    return spans


BEFORE = [("db.query", "SELECT cart", 20.0)] * 2 + [("http.client", "GET /price", 50.0)]
NOW = [("db.query", "SELECT cart", 200.0)] * 2 + [("http.client", "GET /price", 55.0)]
SPANS = [
    # the hour before: 4 checkouts, all kept
    *(s for n in range(4) for s in transaction("checkout", 60 + n * 600, BEFORE)),
    # the window: 4 checkouts sampled at 50 % (each stands for 2), db 10x slower, a new kind
    *(
        s
        for n in range(4)
        for s in transaction(
            "checkout", HOUR + 60 + n * 600, [*NOW, ("cache.get", "cart:*", 3.0)], rate=0.5,
            env="staging" if n == 0 else "production", network="base-sepolia" if n else "mainnet",
            browser=None if n == 3 else "Chrome",
        )
    ),
    # another transaction, slower still: not part of checkout's summary
    *transaction("login", HOUR + 90, [("db.query", "SELECT cart", 5000.0)]),
]  # fmt: skip


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    backend = str(request.param)
    folder = tmp_path_factory.mktemp(f"transaction-summary-{backend}")
    url = store_url(backend, folder)
    opened = open_backend(backend, folder, url)
    try:
        opened.create_project("shop", "d" * 32, 300.0)
        opened.write(Batch(spans=SPANS)).result(timeout=10)
        yield opened
    finally:
        opened.close()
        if backend == "clickhouse":
            drop(url)


def checkout(query: str = "") -> Window:
    return Window(START + HOUR, START + 2 * HOUR, parse(f"transaction:checkout {query}", START))


def numbers(s: SuspectSpan) -> list[float]:
    return [s.ms_per_tx, s.before_ms_per_tx, s.per_tx, s.before_per_tx, s.samples]


def test_suspect_spans_rank_the_kind_that_slowed_most_first(store: Store) -> None:
    found = store.suspect_spans(checkout(), 10)
    assert [(s.op, s.description) for s in found] == [
        ("db.query", "SELECT cart"),
        ("http.client", "GET /price"),
        ("cache.get", "cart:*"),
    ]
    db, http, cache = found
    assert numbers(db) == pytest.approx([400.0, 40.0, 2.0, 2.0, 8], abs=1e-3)
    assert numbers(http) == pytest.approx([55.0, 50.0, 1.0, 1.0, 4], abs=1e-3)
    assert numbers(cache) == pytest.approx([3.0, 0.0, 1.0, 0.0, 4], abs=1e-3)
    assert [s.op for s in store.suspect_spans(checkout(), 1)] == ["db.query"]


def test_suspect_spans_leave_out_kinds_that_did_not_grow(store: Store) -> None:
    # the hour before as the window: compared with an empty hour, everything grew;
    # the window itself as the "before" of the next hour: nothing grew
    earlier = Window(START, START + HOUR, parse("transaction:checkout", START))
    grew = [s.ms_per_tx for s in store.suspect_spans(earlier, 10)]
    assert grew == pytest.approx([50.0, 40.0], abs=1e-3)
    later = Window(START + 2 * HOUR, START + 3 * HOUR, parse("transaction:checkout", START))
    assert store.suspect_spans(later, 10) == []
    assert store.suspect_spans(checkout("environment:nowhere"), 10) == []


def test_transaction_tags_weigh_each_transaction_by_its_sample_rate(store: Store) -> None:
    tags = {t.key: t for t in store.transaction_tags(checkout(), 5)}
    assert list(tags)[:4] == ["environment", "release", "browser", "os"]
    env = tags["environment"]
    assert (env.total, env.values, env.other) == (8, [("production", 6), ("staging", 2)], 0)
    assert tags["browser"].values == [("Chrome", 6)]
    assert tags["blockchain.network"].values == [("base-sepolia", 6), ("mainnet", 2)]
    assert tags["tier"].values == [("gold", 8)] and "blockchain.type" not in tags
    narrowed = {t.key: t for t in store.transaction_tags(checkout("environment:staging"), 5)}
    assert narrowed["blockchain.network"].values == [("mainnet", 2)]
    assert store.transaction_tags(checkout("environment:nowhere"), 5) == []
