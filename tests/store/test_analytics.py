"""Analytics checked against an exact computation in Python over the same data."""

from __future__ import annotations

import random
import statistics
import uuid
from collections.abc import Iterator

import pytest

from glasspane.domain import NON_FAILING_STATUSES, Batch, ErrorEvent, Span, User
from glasspane.query.filters import Cmp, Not
from glasspane.store import open_store
from glasspane.store.api import Store, Window

START = 1_800_000_000.0
HOUR = 3600.0


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
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, list[Span]]]:
    folder = tmp_path_factory.mktemp("analytics")
    store = open_store(f"duckdb://{folder / 'a.duckdb'}", folder)
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
        for _ in range(700):
            status = rng.choices(
                ["ok", "internal_error", "cancelled", "deadline_exceeded"], [90, 5, 3, 2]
            )[0]
            user = User(email=f"u{rng.randrange(40)}@example.com")
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
    yield store, spans
    store.close()


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
    assert all(r.user and r.user.endswith("@example.com") for r in newest)


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
