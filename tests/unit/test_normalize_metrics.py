"""Sentry ``trace_metric`` items and OTLP metrics → metric points."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2 as pb

from glasspane.domain import Batch, Histogram, MetricPoint
from glasspane.normalize.context import IngestContext
from glasspane.normalize.envelope import normalize_envelope
from glasspane.normalize.otlp_metrics import explicit_buckets, normalize_metrics
from glasspane.normalize.trace_metrics import handle_trace_metric_item
from glasspane.protocol.envelope import parse_envelope

FIXTURES = Path(__file__).parent.parent / "fixtures" / "envelopes"
NOW = 1_800_000_000.0
T0, T1 = 1_800_000_000_000_000_000, 1_800_000_060_000_000_000
CUMULATIVE = pb.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
DELTA = pb.AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA


def ctx() -> IngestContext:
    return IngestContext(3, "checkout", NOW, dsc={"environment": "dsc-env"})


def fixture_metrics(name: str) -> list[MetricPoint]:
    envelope = parse_envelope((FIXTURES / name).read_bytes(), 10_000_000)
    batch, problems = normalize_envelope(envelope, ctx())
    assert problems == [] and batch.outcomes == []
    return batch.metrics


@pytest.mark.parametrize("fixture", ["python-metrics.envelope", "node-metrics.envelope"])
def test_sdk_metrics_are_single_values_with_trace_and_attributes(fixture: str) -> None:
    points = {p.name: p for p in fixture_metrics(fixture)}
    counter = points["cases.created"]
    assert (counter.type, counter.value, counter.count, counter.total) == ("counter", 1.0, 1, 1.0)
    assert (counter.min, counter.max, counter.unit) == (1.0, 1.0, None)
    assert counter.attributes["tier"] == "gold"
    assert counter.trace_id and counter.span_id and not counter.cumulative
    duration = points["case.creation.duration"]
    assert (duration.type, duration.value, duration.unit) == ("distribution", 120.5, "millisecond")
    assert duration.histogram is None
    assert duration.service == "checkout" and duration.environment in ("test", "e2e")


def test_bad_metric_entries_are_dropped_and_counted() -> None:
    batch = Batch()
    good = {"timestamp": NOW, "name": "jobs", "type": "gauge", "value": 3, "attributes": {}}
    payload = {
        "items": [
            good,
            {**good, "type": "set"},
            {**good, "value": True},
            {**good, "value": float("nan")},
            {**good, "name": ""},
        ]
    }
    handle_trace_metric_item(payload, ctx(), 'Envelope item 1 ("trace_metric")', batch)
    [point] = batch.metrics
    assert (point.type, point.value, point.environment) == ("gauge", 3.0, "dsc-env")
    [outcome] = batch.outcomes
    assert (outcome.category, outcome.reason, outcome.quantity) == ("trace_metric", "invalid", 4)


def _kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def request(*metrics: pb.Metric) -> ExportMetricsServiceRequest:
    message = ExportMetricsServiceRequest()
    resource = message.resource_metrics.add()
    resource.resource.attributes.extend(
        [_kv("service.name", "registry"), _kv("service.version", "2.1.0")]
    )
    resource.scope_metrics.add().metrics.extend(metrics)
    return message


def number(value: float | int, time: int = T1, **attrs: str) -> pb.NumberDataPoint:
    point = pb.NumberDataPoint(start_time_unix_nano=T0, time_unix_nano=time)
    point.attributes.extend([_kv(k, v) for k, v in attrs.items()])
    if isinstance(value, int):
        point.as_int = value
    else:
        point.as_double = value
    return point


def normalized(*metrics: pb.Metric) -> Batch:
    return normalize_metrics(request(*metrics), ctx())


def test_gauge() -> None:
    metric = pb.Metric(name="queue.depth", unit="1", gauge=pb.Gauge(data_points=[number(7)]))
    [point] = normalized(metric).metrics
    assert (point.type, point.value, point.count, point.total) == ("gauge", 7.0, 1, 7.0)
    assert (point.timestamp, point.start_timestamp) == (1_800_000_060.0, 1_800_000_000.0)
    assert (point.service, point.release, point.unit) == ("registry", "2.1.0", "1")
    assert point.attributes == {"service.name": "registry", "service.version": "2.1.0"}


@pytest.mark.parametrize(
    ("monotonic", "temporality", "type_", "cumulative"),
    [
        (True, CUMULATIVE, "counter", True),
        (True, DELTA, "counter", False),
        (False, CUMULATIVE, "gauge", False),
        (False, DELTA, "counter", False),
    ],
)
def test_sums(monotonic: bool, temporality: int, type_: str, cumulative: bool) -> None:
    total = pb.Sum(
        data_points=[number(5, tier="gold")],
        aggregation_temporality=temporality,  # type: ignore[arg-type]
        is_monotonic=monotonic,
    )
    [point] = normalized(pb.Metric(name="cases.created", sum=total)).metrics
    assert (point.type, point.cumulative, point.value) == (type_, cumulative, 5.0)
    assert point.attributes["tier"] == "gold"


def test_points_without_a_value_are_skipped() -> None:
    empty = number(1)
    empty.flags = pb.DataPointFlags.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK
    metric = pb.Metric(name="x", gauge=pb.Gauge(data_points=[empty, pb.NumberDataPoint()]))
    assert normalized(metric).metrics == []


def test_histogram_with_exemplar() -> None:
    point = pb.HistogramDataPoint(
        start_time_unix_nano=T0,
        time_unix_nano=T1,
        count=4,
        sum=330.0,
        min=20.0,
        max=150.0,
        explicit_bounds=[0, 50, 100],
        bucket_counts=[0, 2, 1, 1],
        exemplars=[pb.Exemplar(trace_id=bytes.fromhex("ab" * 16), span_id=bytes.fromhex("cd" * 8))],
    )
    histogram = pb.Histogram(data_points=[point], aggregation_temporality=CUMULATIVE)
    metric = pb.Metric(name="case.creation.duration", unit="ms", histogram=histogram)
    [out] = normalized(metric).metrics
    assert (out.type, out.value, out.count, out.total, out.min, out.max) == (
        "distribution",
        None,
        4,
        330.0,
        20.0,
        150.0,
    )
    assert out.histogram == Histogram([0, 50, 100], [0, 2, 1, 1])
    assert (out.trace_id, out.span_id, out.cumulative) == ("ab" * 16, "cd" * 8, True)


def test_exponential_histogram_becomes_explicit_buckets() -> None:
    # scale 0: base 2; positive buckets from index 1: (2, 4], (4, 8]; zero bucket 1.
    point = pb.ExponentialHistogramDataPoint(
        count=6,
        sum=30.0,
        scale=0,
        zero_count=1,
        positive=pb.ExponentialHistogramDataPoint.Buckets(offset=1, bucket_counts=[2, 3]),
        negative=pb.ExponentialHistogramDataPoint.Buckets(offset=0, bucket_counts=[0]),
    )
    buckets = explicit_buckets(point)
    # (-inf,-2] 0 | (-2,-1] 0 | (-1,-0] gap 0 | (-0,0] zero 1 | (0,2] gap 0 | (2,4] 2 | (4,8] 3
    assert buckets.bounds == [-2.0, -1.0, -0.0, 0.0, 2.0, 4.0, 8.0]
    assert buckets.counts == [0, 0, 0, 1, 0, 2, 3, 0]
    metric = pb.Metric(
        name="size",
        exponential_histogram=pb.ExponentialHistogram(data_points=[point]),
    )
    [out] = normalized(metric).metrics
    assert (out.type, out.count, out.total, out.cumulative) == ("distribution", 6, 30.0, False)


@pytest.mark.parametrize(("scale", "offset"), [(-10, 0), (0, 5000), (20, -(2**31))])
def test_exponential_buckets_past_the_float_range_are_infinite_not_an_error(
    scale: int, offset: int
) -> None:
    buckets = pb.ExponentialHistogramDataPoint.Buckets(offset=offset, bucket_counts=[1, 2])
    point = pb.ExponentialHistogramDataPoint(count=3, scale=scale, positive=buckets)
    bounds = explicit_buckets(point).bounds  # was OverflowError, a 500 for the whole export
    assert bounds == sorted(bounds) and all(b >= 0 for b in bounds)


def test_summaries_are_counted_as_unsupported() -> None:
    summary = pb.Summary(data_points=[pb.SummaryDataPoint(), pb.SummaryDataPoint()])
    batch = normalized(pb.Metric(name="latency", summary=summary))
    assert batch.metrics == []
    [outcome] = batch.outcomes
    assert (outcome.category, outcome.reason, outcome.quantity) == (
        "otlp_summary",
        "unsupported",
        2,
    )
