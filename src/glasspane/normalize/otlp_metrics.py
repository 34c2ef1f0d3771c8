"""OTLP metrics → metric points (protocol.md §8).

Mapping, by the point's meaning rather than its instrument:

========================  ==============  ==========================================
OTLP                      type            value
========================  ==============  ==========================================
gauge                     gauge           the level
sum, monotonic            counter         delta, or running total (``cumulative``)
sum, not monotonic        gauge/counter   cumulative: the level; delta: the change
histogram                 distribution    count, sum, min, max and explicit buckets
exponential histogram     distribution    its buckets as explicit bounds
summary                   (dropped)       counted as ``unsupported``
========================  ==============  ==========================================

Cumulative points keep the series' start time; readers turn them into
increments (an exporter that sends the same total twice adds nothing). The
data point's attributes are kept, with the resource's descriptive attributes
beside them. Trace and span ids come from the first exemplar that has them.
"""

from __future__ import annotations

import math
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    DataPointFlags,
    ExponentialHistogramDataPoint,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
)

from glasspane.domain import Batch, Histogram, MetricPoint, Outcome
from glasspane.normalize.context import IngestContext
from glasspane.normalize.otlp_logs import hex_or_none, resource_details
from glasspane.protocol.otlp import attributes

CUMULATIVE = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
NO_VALUE = DataPointFlags.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK

Point = NumberDataPoint | HistogramDataPoint | ExponentialHistogramDataPoint


def normalize_metrics(request: ExportMetricsServiceRequest, ctx: IngestContext) -> Batch:
    batch = Batch()
    for resource_metrics in request.resource_metrics:
        details = resource_details(attributes(resource_metrics.resource.attributes), ctx)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                _metric(metric, details, ctx, batch)
    return batch


def _metric(metric: Metric, details: dict[str, Any], ctx: IngestContext, batch: Batch) -> None:
    kind = metric.WhichOneof("data")
    if kind == "gauge":
        for number in metric.gauge.data_points:
            _number(metric, number, "gauge", False, details, ctx, batch)
    elif kind == "sum":
        cumulative = metric.sum.aggregation_temporality == CUMULATIVE
        if metric.sum.is_monotonic:
            type_ = "counter"
        else:  # an up-down counter: a running total is a level, deltas are changes
            type_, cumulative = ("gauge", False) if cumulative else ("counter", False)
        for number in metric.sum.data_points:
            _number(metric, number, type_, cumulative, details, ctx, batch)
    elif kind == "histogram":
        cumulative = metric.histogram.aggregation_temporality == CUMULATIVE
        for point in metric.histogram.data_points:
            histogram = Histogram(list(point.explicit_bounds), list(point.bucket_counts))
            _distribution(metric, point, histogram, cumulative, details, ctx, batch)
    elif kind == "exponential_histogram":
        cumulative = metric.exponential_histogram.aggregation_temporality == CUMULATIVE
        for exp in metric.exponential_histogram.data_points:
            _distribution(metric, exp, explicit_buckets(exp), cumulative, details, ctx, batch)
    else:
        points = len(metric.summary.data_points) if kind == "summary" else 1
        batch.outcomes.append(
            Outcome(
                ctx.project_id, f"otlp_{kind or 'metric'}", "unsupported", points, ctx.received_at
            )
        )


def _common(
    metric: Metric, point: Point, cumulative: bool, details: dict[str, Any], ctx: IngestContext
) -> dict[str, Any]:
    exemplar = next((e for e in point.exemplars if any(e.trace_id)), None)
    return {
        "unit": metric.unit or None,
        "service": details["service"],
        "attributes": {**details["tags"], **attributes(point.attributes)},
        "trace_id": hex_or_none(exemplar.trace_id) if exemplar else None,
        "span_id": hex_or_none(exemplar.span_id) if exemplar else None,
        "environment": details["environment"],
        "release": details["release"],
        "start_timestamp": point.start_time_unix_nano / 1e9 or None,
        "cumulative": cumulative,
    }


def _time(point: Point, ctx: IngestContext) -> float:
    return point.time_unix_nano / 1e9 if point.time_unix_nano else ctx.received_at


def _number(
    metric: Metric,
    point: NumberDataPoint,
    type_: str,
    cumulative: bool,
    details: dict[str, Any],
    ctx: IngestContext,
    batch: Batch,
) -> None:
    if point.flags & NO_VALUE or point.WhichOneof("value") is None:
        return
    value = float(point.as_double if point.WhichOneof("value") == "as_double" else point.as_int)
    common = _common(metric, point, cumulative, details, ctx)
    batch.metrics.append(
        MetricPoint.single(ctx.project_id, _time(point, ctx), metric.name, type_, value, **common)
    )


def _distribution(
    metric: Metric,
    point: HistogramDataPoint | ExponentialHistogramDataPoint,
    histogram: Histogram,
    cumulative: bool,
    details: dict[str, Any],
    ctx: IngestContext,
    batch: Batch,
) -> None:
    if point.flags & NO_VALUE:
        return
    batch.metrics.append(
        MetricPoint(
            ctx.project_id,
            _time(point, ctx),
            metric.name,
            "distribution",
            None,
            int(point.count),
            point.sum if point.HasField("sum") else 0.0,
            point.min if point.HasField("min") else None,
            point.max if point.HasField("max") else None,
            histogram=histogram,
            **_common(metric, point, cumulative, details, ctx),
        )
    )


def explicit_buckets(point: ExponentialHistogramDataPoint) -> Histogram:
    """Exponential buckets as explicit ones: index i holds (base**i, base**(i+1)].

    Zero-count buckets open and close the list (and fill gaps beside the zero
    bucket) so that every counted range keeps its exact bounds.
    """
    base = _power(2.0, 2.0**-point.scale)
    ranges: list[tuple[float, float, int]] = []  # (lower, upper, count), ascending
    negative, positive = point.negative, point.positive
    for k in reversed(range(len(negative.bucket_counts))):
        i = negative.offset + k
        ranges.append((-_power(base, i + 1), -_power(base, i), int(negative.bucket_counts[k])))
    if point.zero_count or not (negative.bucket_counts or positive.bucket_counts):
        ranges.append((-point.zero_threshold, point.zero_threshold, int(point.zero_count)))
    for k, count in enumerate(positive.bucket_counts):
        i = positive.offset + k
        ranges.append((_power(base, i), _power(base, i + 1), int(count)))
    bounds, counts = [ranges[0][0]], [0]
    for lower, upper, count in ranges:
        if lower > bounds[-1]:  # a gap between the zero bucket and its neighbours
            bounds.append(lower)
            counts.append(0)
        bounds.append(upper)
        counts.append(count)
    return Histogram(bounds, [*counts, 0])


def _power(base: float, exponent: float) -> float:
    """``base ** exponent``, infinite past the largest float (scale -10, or a far offset)."""
    try:
        power: float = base**exponent  # typed Any: a negative base gives a complex
        return power
    except OverflowError:
        return math.inf
