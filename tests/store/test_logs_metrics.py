"""Logs and metrics through the store contract, on every backend."""

from __future__ import annotations

import time
from typing import Any

import pytest

from envelopes import transaction
from glasspane.domain import LOG_LEVELS, Batch, Histogram, LogRecord, MetricPoint
from glasspane.errors import QueryError
from glasspane.normalize.context import IngestContext
from glasspane.normalize.transaction import normalize_transaction
from glasspane.query.search import parse
from glasspane.store.api import Store
from glasspane.store.models import MetricBucket, MetricQuery, Window

NOW = time.time()
WINDOW = Window(NOW - 3600, NOW)


def log(ago: float, level: str, body: str, **extra: Any) -> LogRecord:
    service = extra.pop("service", "api")
    return LogRecord(1, NOW - ago, level, body, service, severity_number=LOG_LEVELS[level], **extra)


def write(store: Store, **lists: Any) -> None:
    store.write(Batch(**lists)).result(timeout=10)


def filtered(query: str) -> Window:
    return Window(WINDOW.start, WINDOW.end, parse(query, NOW))


# -- logs ---------------------------------------------------------------------------


@pytest.fixture
def logged(store: Store) -> dict[str, str]:
    payload = transaction(name="createCase")
    trace_id = payload["contexts"]["trace"]["trace_id"]
    span_id = payload["spans"][0]["span_id"]
    spans = normalize_transaction(payload, IngestContext(1, "api", NOW), "test")
    write(
        store,
        spans=spans,
        logs=[
            log(30, "info", "Case AAA-1 created", trace_id=trace_id, span_id=span_id),
            log(20, "warn", "slow insert", trace_id=trace_id, attributes={"logger.name": "db"}),
            log(10, "error", "Payment failed", service="billing", attributes={"tier": "gold"}),
            log(7200, "info", "long ago"),
        ],
    )
    return {"trace_id": trace_id, "span_id": span_id}


def bodies(logs: list[LogRecord]) -> list[str]:
    return [entry.body for entry in logs]


def test_logs_come_newest_first_within_the_window(store: Store, logged: dict) -> None:
    assert bodies(store.list_logs(WINDOW, 100)) == [
        "Payment failed",
        "slow insert",
        "Case AAA-1 created",
    ]
    assert bodies(store.list_logs(WINDOW, 1)) == ["Payment failed"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("level:warn", ["slow insert"]),
        ("!level:info", ["Payment failed", "slow insert"]),
        ("service:billing", ["Payment failed"]),
        ("created", ["Case AAA-1 created"]),
        ("pay*ed", ["Payment failed"]),  # free text: case-insensitive, * a wildcard
        ("message:Payment*", ["Payment failed"]),
        ("logger.name:db", ["slow insert"]),
        ("tier:gold OR level:info", ["Payment failed", "Case AAA-1 created"]),
        ("tags[tier]:gold", ["Payment failed"]),
        ("severity:>=13", ["Payment failed", "slow insert"]),
        ("has:span.id", ["Case AAA-1 created"]),
        ("timestamp:-15s", ["Payment failed"]),
        # a span key: the logs of traces with a createCase transaction
        ("transaction:createCase", ["slow insert", "Case AAA-1 created"]),
    ],
)
def test_log_search(store: Store, logged: dict, query: str, expected: list[str]) -> None:
    assert bodies(store.list_logs(filtered(query), 100)) == expected


def test_log_search_refuses_unknown_keys(store: Store, logged: dict) -> None:
    with pytest.raises(QueryError, match=r'unknown key "loger\.name"; did you mean "logger\.name"'):
        store.list_logs(filtered("loger.name:db"), 100)


def test_trace_logs_come_oldest_first_with_their_spans(store: Store, logged: dict) -> None:
    found = store.trace_logs(logged["trace_id"], 100)
    assert bodies(found) == ["Case AAA-1 created", "slow insert"]
    assert [entry.span_id for entry in found] == [logged["span_id"], None]
    assert found[1].attributes == {"logger.name": "db"}
    assert store.trace_logs("0" * 32, 100) == []


# -- metrics ------------------------------------------------------------------------


def value(ago: float, name: str, type_: str, v: float, **extra: Any) -> MetricPoint:
    return MetricPoint.single(1, NOW - ago, name, type_, v, service="api", **extra)


def series(store: Store, name: str, interval: float = 3600.0, **kw: Any) -> list[MetricBucket]:
    window = kw.pop("window", WINDOW)
    return store.metric_series(MetricQuery(name, window, interval, **kw))


def test_distribution_percentiles_are_exact(store: Store) -> None:
    values = [10.0, 20.0, 30.0, 40.0, 100.0]
    write(
        store,
        metrics=[
            value(60 + i, "case.creation.duration", "distribution", v, unit="millisecond")
            for i, v in enumerate(values)
        ],
    )
    [bucket] = series(store, "case.creation.duration")
    assert (bucket.timestamp, bucket.group, bucket.count, bucket.sum) == (
        WINDOW.start,
        None,
        5,
        200,
    )
    assert (bucket.min, bucket.max, bucket.p50) == (10.0, 100.0, 30.0)
    assert bucket.p95 == pytest.approx(88.0)  # 40 + 0.8 * (100 - 40)
    info = store.describe_metric("case.creation.duration")
    assert info is not None and (info.type, info.unit, info.points) == (
        "distribution",
        "millisecond",
        5,
    )
    assert store.describe_metric("nope") is None


def test_buckets_and_groups(store: Store) -> None:
    write(
        store,
        metrics=[
            value(3000, "cases.created", "counter", 1, attributes={"tier": "gold"}),
            value(100, "cases.created", "counter", 2, attributes={"tier": "gold"}),
            value(90, "cases.created", "counter", 5, attributes={"tier": "free"}),
            value(80, "cases.created", "counter", 1),
            value(7200, "cases.created", "counter", 100),  # before the window
        ],
    )
    buckets = series(store, "cases.created", interval=600.0)
    assert [(round(b.timestamp - WINDOW.start), b.count, b.sum) for b in buckets] == [
        (600, 1, 1.0),
        (3000, 3, 8.0),
    ]
    grouped = series(store, "cases.created", group_by="tier")
    assert [(b.group, b.count, b.sum) for b in grouped] == [
        ("free", 1, 5.0),
        ("gold", 2, 3.0),
        (None, 1, 1.0),
    ]
    by_service = series(store, "cases.created", group_by="service")
    assert [(b.group, b.sum) for b in by_service] == [("api", 9.0)]
    only_gold = series(store, "cases.created", window=filtered("tier:gold"))
    assert [(b.count, b.sum) for b in only_gold] == [(2, 3.0)]


def test_project_names_filter_and_group(store: Store) -> None:
    store.create_project("shop", "a" * 32, 300.0)
    store.create_project("billing", "b" * 32, 300.0)
    billing = value(60, "jobs", "counter", 4)
    billing.project_id = 2
    write(store, metrics=[value(50, "jobs", "counter", 1), billing])
    grouped = series(store, "jobs", group_by="project")
    assert [(b.group, b.sum) for b in grouped] == [("billing", 4.0), ("shop", 1.0)]
    only = series(store, "jobs", window=filtered("project:bill*"))
    assert [(b.group, b.sum) for b in only] == [(None, 4.0)]


def test_attribute_values_that_are_not_text_compare_as_written(store: Store) -> None:
    write(
        store,
        logs=[
            log(30, "info", "third try", attributes={"attempt": 3, "retry": True}),
            log(20, "info", "first try", attributes={"attempt": 1, "retry": False}),
        ],
    )
    assert bodies(store.list_logs(filtered("attempt:3"), 10)) == ["third try"]
    assert bodies(store.list_logs(filtered("attempt:>=1"), 10)) == ["first try", "third try"]
    assert bodies(store.list_logs(filtered("retry:true"), 10)) == ["third try"]


def test_metric_filters_refuse_free_text_and_unknown_keys(store: Store) -> None:
    write(store, metrics=[value(10, "jobs", "gauge", 1, attributes={"queue": "a"})])
    with pytest.raises(QueryError, match="not free text"):
        series(store, "jobs", window=filtered("urgent"))
    with pytest.raises(QueryError, match='unknown key "queu"'):
        series(store, "jobs", window=filtered("queu:a"))
    with pytest.raises(QueryError, match='unknown key "qeue"'):
        series(store, "jobs", group_by="qeue")


def cumulative(ago: float, total: float, start: float, **attrs: str) -> MetricPoint:
    point = value(ago, "requests", "counter", total, attributes=attrs)
    point.cumulative, point.start_timestamp = True, start
    return point


def test_cumulative_sums_count_their_increase(store: Store) -> None:
    first_run, second_run = NOW - 9000, NOW - 500
    write(
        store,
        metrics=[
            cumulative(5000, 4, first_run),  # before the window: the baseline
            cumulative(3000, 10, first_run),  # +6
            cumulative(2000, 10, first_run),  # exported again: not counted
            cumulative(1000, 12, first_run),  # +2
            cumulative(400, 3, second_run),  # a new process: +3
            cumulative(300, 7, second_run, route="/a"),  # another series: +7
        ],
    )
    [bucket] = series(store, "requests")
    assert (bucket.count, bucket.sum, bucket.min, bucket.max) == (4, 18.0, 2.0, 7.0)


def histogram_point(ago: float, counts: list[int], total: float, cumul: bool) -> MetricPoint:
    return MetricPoint(
        1,
        NOW - ago,
        "latency",
        "distribution",
        None,
        sum(counts),
        total,
        5.0,
        150.0,
        unit="ms",
        service="api",
        histogram=Histogram([0.0, 50.0, 100.0], counts),
        start_timestamp=NOW - 9000,
        cumulative=cumul,
    )


def test_histograms_fold_into_the_series(store: Store) -> None:
    write(
        store,
        metrics=[
            histogram_point(5000, [0, 1, 0, 0], 10.0, True),  # baseline
            histogram_point(100, [0, 3, 2, 0], 250.0, True),  # +2 (0,50], +2 (50,100]
        ],
    )
    [bucket] = series(store, "latency")
    assert (bucket.count, bucket.sum) == (4, 240.0)
    assert bucket.p50 == pytest.approx(50.0)
    assert bucket.p95 == pytest.approx(95.0)  # rank 3.8 of 4: 80% into (50, 100]


def test_histograms_and_single_values_together_have_no_percentiles(store: Store) -> None:
    write(
        store,
        metrics=[
            histogram_point(100, [0, 1, 0, 0], 10.0, False),
            value(50, "latency", "distribution", 300.0),
        ],
    )
    [bucket] = series(store, "latency")
    assert (bucket.count, bucket.sum, bucket.min, bucket.max) == (2, 310.0, 5.0, 300.0)
    assert bucket.p50 is None and bucket.p95 is None


def test_list_metrics(store: Store) -> None:
    write(
        store,
        metrics=[
            value(10, "b.gauge", "gauge", 1),
            value(20, "a.count", "counter", 1, unit="case"),
            value(7200, "old", "counter", 1),
        ],
    )
    found = store.list_metrics(WINDOW)
    assert [(m.name, m.type, m.unit, m.points) for m in found] == [
        ("a.count", "counter", "case", 1),
        ("b.gauge", "gauge", None, 1),
    ]
