"""Analytics checked against an exact computation in Python over the same data,
on every backend (one store open at a time: chDB opens one directory per process)."""

from __future__ import annotations

import random
import statistics
import uuid
from collections.abc import Callable, Iterator

import pytest

from glasspane.domain import (
    NO_CLIENT,
    NON_FAILING_STATUSES,
    Batch,
    ClientInfo,
    ErrorEvent,
    Span,
    User,
)
from glasspane.errors import QueryError
from glasspane.filters import Cmp, Not
from glasspane.query.search import parse
from glasspane.store.api import Store
from glasspane.store.models import Window
from store.backends import BACKENDS, drop, open_backend, store_url

START = 1_800_000_000.0
HOUR = 3600.0
TIERS = ["gold", "free", "free"]
BROWSERS = ["Chrome", "Firefox", None]
COUNTRIES = ["DE", "US", "FR", "BR"]


def exact_quantile(values: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def apdex(durations: list[float], threshold: float) -> float:
    satisfied = sum(d <= threshold for d in durations)
    tolerating = sum(threshold < d <= 4 * threshold for d in durations)
    return (satisfied + tolerating / 2) / len(durations)


def segment(
    project_id: int,
    service: str,
    name: str,
    start: float,
    duration_ms: float,
    status: str,
    rate: float,
    user: User,
    tags: dict[str, str] | None = None,
    client: ClientInfo = NO_CLIENT,
) -> Span:
    span_id = uuid.uuid4().hex[:16]
    return Span(
        project_id=project_id,
        trace_id=uuid.uuid4().hex,
        span_id=span_id,
        parent_span_id=None,
        segment_id=span_id,
        is_segment=True,
        transaction=name,
        op="http.server",
        description=name,
        status=status,
        start_timestamp=start,
        timestamp=start + duration_ms / 1000,
        service=service,
        user=user,
        sample_rate=rate,
        environment="production",
        tags=tags or {},
        client=client,
    )


@pytest.fixture(scope="module", params=BACKENDS)
def data(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, list[Span]]]:
    """The data set in a store of one backend; pytest runs each backend's tests together."""
    backend = str(request.param)
    folder = tmp_path_factory.mktemp(f"analytics-{backend}")
    url = store_url(backend, folder)
    store = open_backend(backend, folder, url)
    try:
        yield store, load(store)
    finally:
        store.close()
        if backend == "clickhouse":
            drop(url)


def load(store: Store) -> list[Span]:
    store.create_project("checkout", "a" * 32, 300.0)
    store.create_project("payments", "b" * 32, 1000.0)
    rng = random.Random(7)
    spans = []
    plans = [
        (1, "checkout", "uploadDocument", 1.0, 0.6),
        (1, "checkout", "verifyToken", 0.1, 0.3),
        (2, "payments", "registerOnBlockchain", 0.25, 0.8),
    ]
    for project_id, service, name, rate, sigma in plans:
        for i in range(700):
            status = rng.choices(
                ["ok", "internal_error", "cancelled", "deadline_exceeded"], [90, 5, 3, 2]
            )[0]
            email = f"u{rng.randrange(40)}@example.com"
            user = User() if i % 10 == 9 else User(email=email)  # some have no user
            spans.append(
                segment(
                    project_id,
                    service,
                    name,
                    START + rng.uniform(0, HOUR),
                    rng.lognormvariate(5.5, sigma),
                    status,
                    rate,
                    user,
                    {"tier": TIERS[i % 3], "load": str(i % 7 / 10)},
                    ClientInfo(BROWSERS[i % 3], "Linux", COUNTRIES[i % 4]),
                )
            )
    batch = Batch(spans=spans)
    # Errors in a few checkout traces that did not fail by status.
    for span in [s for s in spans if s.service == "checkout" and s.status == "ok"][:25]:
        batch.errors.append(
            ErrorEvent(
                project_id=1,
                event_id=uuid.uuid4().hex,
                timestamp=span.start_timestamp,
                received_at=span.start_timestamp,
                level="error",
                platform="python",
                trace_id=span.trace_id,
                span_id=span.span_id,
                transaction=span.transaction,
                message=None,
                exceptions=[],
                fingerprint="f",
                title="E",
                culprit=None,
                location=None,
                service="checkout",
            )
        )
    store.write(batch).result(timeout=60)
    return spans


WINDOW = Window(START, START + HOUR)


def test_transactions_table_matches_exact_computation(data) -> None:
    store, spans = data
    rows = {(r.transaction, r.service): r for r in store.transaction_stats(WINDOW)}
    assert len(rows) == 3
    for (name, service), row in rows.items():
        mine = [s for s in spans if s.transaction == name]
        durations = [s.duration_ms for s in mine]
        threshold = 300.0 if service == "checkout" else 1000.0
        assert row.samples == len(mine)
        assert row.count == pytest.approx(sum(1 / s.sample_rate for s in mine))
        assert row.p50_ms == pytest.approx(exact_quantile(durations, 0.5), rel=1e-9)
        assert row.p95_ms == pytest.approx(exact_quantile(durations, 0.95), rel=1e-9)
        failed = [s.status not in NON_FAILING_STATUSES for s in mine]
        assert row.failure_rate == pytest.approx(statistics.fmean(failed))
        assert row.apdex == pytest.approx(apdex(durations, threshold))


def test_sampling_weights_counts_but_not_percentiles(data) -> None:
    store, _spans = data
    [row] = [r for r in store.transaction_stats(WINDOW) if r.transaction == "verifyToken"]
    assert row.samples == 700
    assert row.count == pytest.approx(7000)  # 10% sampling: each stands for ten


def error_traces(spans: list[Span]) -> set[str]:
    """The traces the fixture attached an error event to."""
    return {
        s.trace_id for s in [x for x in spans if x.service == "checkout" and x.status == "ok"][:25]
    }


def test_services_error_rate_counts_failed_or_error_carrying(data) -> None:
    store, spans = data
    rows = {r.service: r for r in store.service_stats(WINDOW)}
    checkout = [s for s in spans if s.service == "checkout"]
    with_errors = error_traces(spans)
    assert len(with_errors) == 25
    expected = statistics.fmean(
        s.status not in NON_FAILING_STATUSES or s.trace_id in with_errors for s in checkout
    )
    assert rows["checkout"].error_rate == pytest.approx(expected)
    assert rows["checkout"].p95_ms == pytest.approx(
        exact_quantile([s.duration_ms for s in checkout], 0.95)
    )
    payments = [s for s in spans if s.service == "payments"]
    assert rows["payments"].error_rate == pytest.approx(
        statistics.fmean(s.status not in NON_FAILING_STATUSES for s in payments)
    )
    assert rows["payments"].apdex == pytest.approx(apdex([s.duration_ms for s in payments], 1000))


def test_filters_narrow_the_window(data) -> None:
    store, spans = data
    only = store.transaction_stats(Window(START, START + HOUR, Cmp("service", "=", "payments")))
    assert {r.transaction for r in only} == {"registerOnBlockchain"}
    wildcard = store.transaction_stats(
        Window(START, START + HOUR, Cmp("transaction", "=", "*TOKEN"))
    )
    assert {r.transaction for r in wildcard} == {"verifyToken"}
    negated = store.transaction_stats(
        Window(START, START + HOUR, Not(Cmp("service", "=", "checkout")))
    )
    assert {r.service for r in negated} == {"payments"}
    half = store.transaction_stats(Window(START, START + HOUR / 2))
    expected = sum(1 for s in spans if s.start_timestamp < START + HOUR / 2)
    assert sum(r.samples for r in half) == expected


def test_trace_summaries_sorted_and_filtered_by_status(data) -> None:
    store, spans = data
    slowest = store.trace_summaries(WINDOW, None, "-duration", 5)
    durations = sorted((s.duration_ms for s in spans), reverse=True)[:5]
    assert [round(r.duration_ms, 3) for r in slowest] == [round(d, 3) for d in durations]
    failing = store.trace_summaries(WINDOW, "error", "-timestamp", 1000)
    expected = {s.trace_id for s in spans if s.status not in NON_FAILING_STATUSES}
    expected |= error_traces(spans)
    assert {r.trace_id for r in failing} == expected
    assert all(r.status == "error" for r in failing)
    newest = store.trace_summaries(WINDOW, "ok", "-timestamp", 3)
    assert [r.timestamp for r in newest] == sorted((r.timestamp for r in newest), reverse=True)
    by_trace = {s.trace_id: s for s in spans}
    assert all(r.user == by_trace[r.trace_id].user.email for r in newest)


@pytest.mark.parametrize("sort", ["-timestamp", "timestamp"])
def test_trace_summaries_newest_or_oldest_first(data, sort: str) -> None:
    store, spans = data
    rows = store.trace_summaries(WINDOW, None, sort, 10)
    ordered = sorted(spans, key=lambda s: s.start_timestamp, reverse=sort.startswith("-"))[:10]
    assert [r.trace_id for r in rows] == [s.trace_id for s in ordered]
    for row, span in zip(rows, ordered, strict=True):
        assert (row.transaction, row.service, row.user) == (
            span.transaction,
            span.service,
            span.user.email,
        )
        assert row.timestamp == pytest.approx(span.start_timestamp)
        assert row.duration_ms == pytest.approx(span.duration_ms)
        failed = span.status not in NON_FAILING_STATUSES or span.trace_id in error_traces(spans)
        assert row.status == ("error" if failed else "ok")


def test_series_buckets(data) -> None:
    store, spans = data
    window = Window(START, START + HOUR, Cmp("transaction", "=", "uploadDocument"))
    points = store.transaction_series(window, 600)
    assert [p.timestamp for p in points] == [START + 600 * i for i in range(6)]
    for point in points:
        mine = [
            s
            for s in spans
            if s.transaction == "uploadDocument"
            and point.timestamp <= s.start_timestamp < point.timestamp + 600
        ]
        assert point.samples == len(mine)
        assert point.p95_ms == pytest.approx(exact_quantile([s.duration_ms for s in mine], 0.95))


def test_window_totals_take_every_matching_transaction(data) -> None:
    store, spans = data
    totals = store.window_totals(WINDOW)
    durations = [s.duration_ms for s in spans]
    with_errors = error_traces(spans)
    assert totals.samples == len(spans)
    assert totals.count == pytest.approx(sum(1 / s.sample_rate for s in spans))
    assert totals.p50_ms == pytest.approx(exact_quantile(durations, 0.5))
    assert totals.p95_ms == pytest.approx(exact_quantile(durations, 0.95))
    assert totals.failure_rate == pytest.approx(
        statistics.fmean(s.status not in NON_FAILING_STATUSES for s in spans)
    )
    assert totals.error_rate == pytest.approx(
        statistics.fmean(
            s.status not in NON_FAILING_STATUSES or s.trace_id in with_errors for s in spans
        )
    )


def test_window_totals_of_nothing_have_no_rates(data) -> None:
    store, _spans = data
    totals = store.window_totals(Window(START - 2 * HOUR, START - HOUR))
    assert (totals.samples, totals.count) == (0, 0)
    assert (totals.p50_ms, totals.p95_ms, totals.failure_rate, totals.error_rate) == (
        None,
        None,
        None,
        None,
    )
    assert store.transaction_stats(Window(START - 2 * HOUR, START - HOUR)) == []
    assert (
        store.trace_summaries(Window(START - 2 * HOUR, START - HOUR), None, "-timestamp", 5) == []
    )


def test_duration_samples_thin_each_transaction(data) -> None:
    store, spans = data
    samples = store.duration_samples(WINDOW, 50)
    by_key = {(s.transaction, s.start_timestamp): s for s in spans}
    for name in ("uploadDocument", "verifyToken", "registerOnBlockchain"):
        mine = [x for x in samples if x.transaction == name]
        assert len(mine) == 50
        assert [x.timestamp for x in mine] == sorted(x.timestamp for x in mine)
        for sample in mine:
            span = by_key[(name, sample.timestamp)]
            assert sample.service == span.service
            assert sample.duration_ms == pytest.approx(span.duration_ms)
            assert sample.failed is (span.status not in NON_FAILING_STATUSES)
    assert len(store.duration_samples(WINDOW, 1000)) == len(spans)


def test_impact_counts_users_of_failing_transactions(data) -> None:
    store, spans = data
    failing = [s for s in spans if s.status not in NON_FAILING_STATUSES]
    stats = store.impact(WINDOW)
    # The error events carry no user: they add no one.
    assert stats.users == len({s.user.email for s in failing if s.user.email})
    assert stats.transactions == pytest.approx(sum(1 / s.sample_rate for s in failing))

    def users_by(value) -> dict[str, int]:
        users: dict[str, set[str]] = {}
        for span in failing:
            if span.user.email and value(span) is not None:
                users.setdefault(value(span), set()).add(span.user.email)
        return {key: len(emails) for key, emails in users.items()}

    assert stats.by_country == users_by(lambda s: s.client.country)
    assert stats.by_browser == users_by(lambda s: s.client.browser)
    assert stats.by_os == users_by(lambda s: s.client.os)
    assert list(stats.by_country.values()) == sorted(stats.by_country.values(), reverse=True)


def test_impact_weights_failing_transactions_by_their_sample_rate(data) -> None:
    """Issue 18: at 10% sampling, 2 failing samples are 20 failing transactions,
    as /transactions counts them."""
    store, spans = data
    failing = [
        s for s in spans if s.transaction == "verifyToken" and s.status not in NON_FAILING_STATUSES
    ]
    assert {s.sample_rate for s in failing} == {0.1} and len(failing) >= 2
    window = Window(START, START + HOUR, parse("transaction:verifyToken", START))
    impact = store.impact(window)
    assert impact.transactions == pytest.approx(10 * len(failing))
    [stats] = store.transaction_stats(window)
    assert impact.transactions == pytest.approx(stats.count * stats.failure_rate)


def samples_matching(store: Store, query: str) -> int:
    window = Window(START, START + HOUR, parse(query, START))
    return sum(r.samples for r in store.transaction_stats(window))


#: Query → which spans of the data set it selects (given the traces with error events).
FILTERS: list[tuple[str, Callable[[Span, set[str]], bool]]] = [
    ("tier:gold", lambda s, errs: s.tags["tier"] == "gold"),
    ("!tier:gold", lambda s, errs: s.tags["tier"] != "gold"),
    ("tags[tier]:GO*", lambda s, errs: s.tags["tier"] == "gold"),
    ("load:>0.3", lambda s, errs: float(s.tags["load"]) > 0.3),
    ("transaction.duration:>500ms", lambda s, errs: s.duration_ms > 500),
    (
        "transaction.duration:<=0.2s service:checkout",
        lambda s, errs: s.duration_ms <= 200 and s.service == "checkout",
    ),
    ("project:payments", lambda s, errs: s.project_id == 2),
    ("!project:check*", lambda s, errs: s.project_id == 2),
    ("project_id:1", lambda s, errs: s.project_id == 1),
    ("has:user.email", lambda s, errs: s.user.email is not None),
    ("!has:user", lambda s, errs: s.user.email is None),
    (
        "browser.name:Chrome OR geo.country_code:BR",
        lambda s, errs: s.client.browser == "Chrome" or s.client.country == "BR",
    ),
    ("!browser.name:Chrome", lambda s, errs: s.client.browser != "Chrome"),
    ("status:internal_error", lambda s, errs: s.status == "internal_error"),
    ("level:error", lambda s, errs: s.trace_id in errs),
    ("!title:E", lambda s, errs: s.trace_id not in errs),
    ("verify", lambda s, errs: s.transaction == "verifyToken"),
]


@pytest.mark.parametrize(("query", "expected"), FILTERS, ids=[q for q, _ in FILTERS])
def test_filters_select_the_transactions(
    data, query: str, expected: Callable[[Span, set[str]], bool]
) -> None:
    store, spans = data
    errs = error_traces(spans)
    assert samples_matching(store, query) == sum(1 for s in spans if expected(s, errs))


def test_unknown_keys_are_refused_before_any_query(data) -> None:
    store, _spans = data
    store.validate_filter(parse("tier:gold", START))
    with pytest.raises(QueryError, match='unknown key "teir"; did you mean "tier"'):
        store.validate_filter(parse("teir:gold", START))
    with pytest.raises(QueryError, match='unknown key "teir"'):
        store.transaction_stats(Window(START, START + HOUR, parse("teir:gold", START)))
