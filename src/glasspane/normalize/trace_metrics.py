"""Sentry ``trace_metric`` items → metric points (protocol.md §5.5).

Same container as logs; each entry is one value, not aggregated by the client:
``{timestamp, trace_id, span_id, name, type, value, unit?, attributes}`` with
``type`` one of ``counter``, ``gauge``, ``distribution``. An entry that cannot
be used is dropped and counted; the entries beside it are kept.
"""

from __future__ import annotations

import math
from typing import Any

from glasspane.domain import METRIC_TYPES, Batch, MetricPoint
from glasspane.errors import ItemError
from glasspane.normalize.context import IngestContext
from glasspane.normalize.logs import each_entry
from glasspane.normalize.spans_v2 import flatten_attributes
from glasspane.normalize.values import mapping, optional_hex_id, text, timestamp


def _number(value: Any, what: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number):
            return number
    raise ItemError(f"{what} must be a finite number, got {value!r}")


def normalize_metric(raw: Any, ctx: IngestContext, what: str) -> MetricPoint:
    raw = mapping(raw)
    name = text(raw.get("name"))
    if not name:
        raise ItemError(f'{what} has no "name"')
    kind = raw.get("type")
    if kind not in METRIC_TYPES:
        raise ItemError(f"{what} type must be one of {', '.join(METRIC_TYPES)}, got {kind!r}")
    attrs = flatten_attributes(raw.get("attributes"))
    when = raw.get("timestamp")
    return MetricPoint.single(
        ctx.project_id,
        ctx.received_at if when is None else timestamp(when, f"{what} timestamp"),
        name,
        kind,
        _number(raw.get("value"), f"{what} value"),
        unit=text(raw.get("unit")) or None,
        service=ctx.service,
        attributes=attrs,
        trace_id=optional_hex_id(raw.get("trace_id"), 32, f"{what} trace_id"),
        span_id=optional_hex_id(raw.get("span_id"), 16, f"{what} span_id"),
        environment=text(attrs.get("sentry.environment")) or text(ctx.dsc.get("environment")),
        release=text(attrs.get("sentry.release")) or text(ctx.dsc.get("release")),
    )


def handle_trace_metric_item(payload: Any, ctx: IngestContext, what: str, batch: Batch) -> None:
    """The envelope handler for ``trace_metric`` items."""
    metrics, outcomes = each_entry(payload, ctx, what, normalize_metric, "metric", "trace_metric")
    batch.metrics.extend(metrics)
    batch.outcomes.extend(outcomes)
