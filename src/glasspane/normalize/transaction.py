"""A ``transaction`` event (Python's default) → its segment span and children.

The root span lives in ``contexts.trace``; ``spans[]`` holds the children.
Transaction-wide details (user, release, environment, sample rate) are copied
onto every span so any span can be filtered on them without a join.
"""

from __future__ import annotations

from typing import Any

from glasspane.domain import Span
from glasspane.errors import ItemError
from glasspane.normalize import enrich
from glasspane.normalize.context import IngestContext
from glasspane.normalize.values import (
    hex_id,
    mapping,
    optional_hex_id,
    sample_rate,
    string_tags,
    text,
    timestamp,
)


def normalize_transaction(payload: dict[str, Any], ctx: IngestContext, what: str) -> list[Span]:
    """The spans of one transaction event; :class:`ItemError` if it is unusable."""
    contexts = mapping(payload.get("contexts"))
    trace = mapping(contexts.get("trace"))
    if not trace:
        raise ItemError(f"{what} has no contexts.trace: a transaction needs trace_id and span_id")
    trace_id = hex_id(trace.get("trace_id"), 32, f"{what} contexts.trace.trace_id")
    span_id = hex_id(trace.get("span_id"), 16, f"{what} contexts.trace.span_id")
    name = text(payload.get("transaction")) or "<unlabeled transaction>"
    trace_data = mapping(trace.get("data"))
    user = ctx.user(payload.get("user"))
    segment = Span(
        project_id=ctx.project_id,
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=optional_hex_id(trace.get("parent_span_id"), 16, f"{what} parent_span_id"),
        segment_id=span_id,
        is_segment=True,
        transaction=name,
        op=text(trace.get("op")),
        description=text(trace.get("description")) or name,
        status=text(trace.get("status")) or "ok",
        start_timestamp=timestamp(payload.get("start_timestamp"), f"{what} start_timestamp"),
        timestamp=timestamp(payload.get("timestamp"), f"{what} timestamp"),
        service=ctx.service,
        tags=string_tags(payload.get("tags")),
        data=trace_data,
        environment=text(payload.get("environment")),
        release=text(payload.get("release")),
        user=user,
        client=enrich.from_event(payload, user.ip_address),
        sample_rate=sample_rate(
            ctx.dsc.get("sample_rate"),
            trace.get("client_sample_rate"),
            trace_data.get("sentry.sample_rate"),
        ),
        event_id=text(payload.get("event_id")) or ctx.envelope_event_id,
        measurements=mapping(payload.get("measurements")),
        contexts={k: v for k, v in contexts.items() if k != "trace"},
        request=mapping(payload.get("request")),
        sdk=mapping(payload.get("sdk")),
        platform=text(payload.get("platform")),
    )
    children = payload.get("spans") or []
    if not isinstance(children, list):
        raise ItemError(f"{what} spans must be a list, got {type(children).__name__}")
    return [segment] + [_child(raw, segment, f"{what} span {i}") for i, raw in enumerate(children)]


def _child(raw: Any, segment: Span, what: str) -> Span:
    raw = mapping(raw)
    tags = string_tags(raw.get("tags"))
    start = timestamp(raw.get("start_timestamp"), f"{what} start_timestamp")
    end = raw.get("timestamp")
    return Span(
        project_id=segment.project_id,
        trace_id=segment.trace_id,
        span_id=hex_id(raw.get("span_id"), 16, f"{what} span_id"),
        parent_span_id=optional_hex_id(raw.get("parent_span_id"), 16, f"{what} parent_span_id")
        or segment.span_id,
        segment_id=segment.span_id,
        is_segment=False,
        transaction=segment.transaction,
        op=text(raw.get("op")),
        description=text(raw.get("description")),
        status=text(raw.get("status")) or tags.get("status") or "ok",
        start_timestamp=start,
        # An unfinished span has no end; show it as an instant rather than drop it.
        timestamp=start if end is None else timestamp(end, f"{what} timestamp"),
        service=segment.service,
        tags=tags,
        data=mapping(raw.get("data")),
        environment=segment.environment,
        release=segment.release,
        user=segment.user,
        client=segment.client,
        sample_rate=segment.sample_rate,
    )
