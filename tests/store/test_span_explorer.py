"""The span explorer's reads (``list_spans``, ``span_groups``) on every backend:
every span, not only transactions; counts and sums weighted by 1 / sample rate."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from glasspane.domain import Batch, Span
from glasspane.errors import ProtocolError, QueryError
from glasspane.query.search import parse
from glasspane.store.api import Store
from glasspane.store.models import SpanGroup, Window
from store.backends import BACKENDS, drop, open_backend, store_url

START = 1_800_000_000.0


def span(
    trace: str,
    name: str,
    op: str,
    offset_s: float,
    duration_ms: float,
    *,
    parent: str | None = None,
    rate: float = 1.0,
    status: str = "ok",
    tags: dict[str, str] | None = None,
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
        transaction="checkout" if trace in "ab" else "login",
        op=op,
        description=f"{op} {name}",
        status=status,
        start_timestamp=start,
        timestamp=start + duration_ms / 1000,
        service="shop",
        tags=tags or {},
        sample_rate=rate,
    )


#: Traces a and b sampled at 10 %: each db span stands for ten. Trace c at 100 %.
SPANS = [
    span("a", "ra", "http.server", 10, 400, rate=0.1),
    span("a", "qa1", "db.query", 10.1, 100, parent="ra", rate=0.1, tags={"db": "pg"}),
    span("a", "qa2", "db.query", 10.2, 200, parent="ra", rate=0.1, tags={"db": "pg"},
         status="internal_error"),
    span("b", "rb", "http.server", 20, 300, rate=0.1),
    span("b", "qb", "db.query", 20.1, 300, parent="rb", rate=0.1, tags={"db": "redis"}),
    span("c", "rc", "http.server", 30, 50),
    span("c", "qc", "db.query", 30.01, 10, parent="rc", tags={"db": "pg"}),
]  # fmt: skip


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    backend = str(request.param)
    folder = tmp_path_factory.mktemp(f"span-explorer-{backend}")
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


def window(query: str = "") -> Window:
    return Window(START, START + 3600, parse(query, START))


def names(spans: list[Span]) -> list[str]:
    return [bytes.fromhex(s.span_id).decode().lstrip("\0") for s in spans]


def test_list_spans_gives_child_spans_newest_first(store: Store) -> None:
    found = store.list_spans(window("span.op:db.query"), "-timestamp", 100)
    assert names(found) == ["qc", "qb", "qa2", "qa1"]
    assert found[0].trace_id == "c" * 32 and not found[0].is_segment


def test_list_spans_sorts_by_duration_and_limits(store: Store) -> None:
    # qb and rb tie at 300 ms: the span id decides
    assert names(store.list_spans(window(), "-duration", 3)) == ["ra", "qb", "rb"]
    assert names(store.list_spans(window(), "duration", 2)) == ["qc", "rc"]


def test_list_spans_terms_apply_to_the_span_itself(store: Store) -> None:
    # db:pg is a tag of child spans only: their roots do not match
    assert names(store.list_spans(window("db:pg"), "timestamp", 100)) == ["qa1", "qa2", "qc"]
    query = "transaction:checkout span.duration:>150ms"
    assert names(store.list_spans(window(query), "timestamp", 100)) == ["ra", "qa2", "rb", "qb"]


def test_list_spans_refuses_an_unknown_sort(store: Store) -> None:
    with pytest.raises(ProtocolError, match="-duration"):
        store.list_spans(window(), "count", 10)


def by_values(groups: list[SpanGroup]) -> dict[tuple[str | None, ...], SpanGroup]:
    return {g.values: g for g in groups}


def test_groups_by_op_weighted_at_a_ten_percent_sample_rate(store: Store) -> None:
    groups = store.span_groups(window(), ("span.op",))
    db = by_values(groups)[("db.query",)]
    assert db.samples == 4
    assert db.count == pytest.approx(31.0)  # three spans at 10 % and one at 100 %
    assert db.sum_ms == pytest.approx(10 * (100 + 200 + 300) + 10)
    assert db.avg_ms == pytest.approx(610 / 4)
    assert db.p50_ms == pytest.approx(150.0)
    assert db.failure_rate == pytest.approx(0.25)
    assert [g.values for g in groups] == [("db.query",), ("http.server",)]  # largest first
    assert by_values(groups)[("http.server",)].count == pytest.approx(21.0)


def test_groups_by_a_tag_and_a_key_with_a_query(store: Store) -> None:
    groups = by_values(store.span_groups(window("span.op:db.query"), ("db", "transaction")))
    assert set(groups) == {("pg", "checkout"), ("redis", "checkout"), ("pg", "login")}
    assert groups[("pg", "checkout")].samples == 2
    assert groups[("pg", "checkout")].count == pytest.approx(20.0)
    assert groups[("pg", "login")].count == pytest.approx(1.0)


def test_groups_by_a_tag_spans_without_it_share_a_none_group(store: Store) -> None:
    groups = by_values(store.span_groups(window(), ("tags[db]",)))
    assert groups[(None,)].samples == 3


def test_group_by_an_unknown_key_suggests_one(store: Store) -> None:
    with pytest.raises(QueryError, match=r'did you mean "span\.op"'):
        store.span_groups(window(), ("span.opp",))


def test_group_by_an_error_key_is_refused(store: Store) -> None:
    with pytest.raises(QueryError, match=r"cannot be grouped by error\.type"):
        store.span_groups(window(), ("error.type",))


def test_series_per_group_by_bucket(store: Store) -> None:
    # 20 s buckets from START: a at 10 s in bucket 0, b at 20 s in bucket 1, c at 30 s too
    points = store.span_group_series(window(), ("span.op",), [("db.query",)], 20.0)
    assert {p.group.values for p in points} == {("db.query",)}  # the group asked for only
    by_bucket = {p.timestamp - START: p.group for p in points}
    assert sorted(by_bucket) == [0.0, 20.0]
    assert by_bucket[0.0].samples == 2 and by_bucket[0.0].count == pytest.approx(20.0)
    assert by_bucket[0.0].p95_ms == pytest.approx(195.0)
    assert by_bucket[20.0].samples == 2 and by_bucket[20.0].count == pytest.approx(11.0)
    assert by_bucket[20.0].sum_ms == pytest.approx(3000 + 10)


def test_series_of_groups_with_a_missing_tag_and_a_query(store: Store) -> None:
    keys = ("span.op", "tags[db]")
    table = store.span_groups(window("transaction:checkout"), keys)
    asked = [g.values for g in table]
    assert ("http.server", None) in asked
    points = store.span_group_series(window("transaction:checkout"), keys, asked, 3600.0)
    # one bucket: each group's point equals its row of the table
    assert sorted((p.group for p in points), key=lambda g: g.values[1] or "") == sorted(
        table, key=lambda g: g.values[1] or ""
    )
    assert store.span_group_series(window(), keys, [("nope", None)], 60.0) == []


def test_series_refuses_what_the_groups_refuse(store: Store) -> None:
    with pytest.raises(QueryError, match="cannot be grouped"):
        store.span_group_series(window(), ("error.type",), [("x",)], 60.0)
