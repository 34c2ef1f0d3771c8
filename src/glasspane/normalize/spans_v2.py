"""``span`` v2 batches (the JavaScript SDKs' default) → spans.

Each span carries what a transaction used to carry as typed ``attributes``
(``sentry.op``, ``sentry.segment.name``, ``user.email`` ...). The spans of one
segment may arrive split over several envelopes and in any order, so every
span is complete on its own: nothing here waits for its segment.
"""

from __future__ import annotations

from typing import Any

from glasspane.domain import NO_CLIENT, Span, User
from glasspane.errors import ItemError
from glasspane.normalize import enrich
from glasspane.normalize.context import IngestContext
from glasspane.normalize.values import (
    hex_id,
    mapping,
    optional_hex_id,
    sample_rate,
    text,
    timestamp,
)

#: Sentry's span statuses; a v2 span says only ok/error, with the detail in
#: ``sentry.status.message`` when the SDK knows it.
SPAN_STATUSES = frozenset(
    {
        "ok",
        "cancelled",
        "unknown",
        "invalid_argument",
        "deadline_exceeded",
        "not_found",
        "already_exists",
        "permission_denied",
        "resource_exhausted",
        "failed_precondition",
        "aborted",
        "out_of_range",
        "unimplemented",
        "internal_error",
        "unavailable",
        "data_loss",
        "unauthenticated",
    }
)


def flatten_attributes(raw: Any) -> dict[str, Any]:
    """``{key: {"value": v, "type": t}}`` → ``{key: v}``; bare values pass through."""
    out: dict[str, Any] = {}
    for key, attr in mapping(raw).items():
        out[str(key)] = attr.get("value") if isinstance(attr, dict) else attr
    return out


def span_status(status: Any, message: Any) -> str:
    if status in (None, "ok", "unset"):
        return "ok"
    if isinstance(message, str) and message in SPAN_STATUSES:
        return message
    if isinstance(status, str) and status in SPAN_STATUSES:
        return status
    return "internal_error"


def normalize_span_batch(payload: Any, ctx: IngestContext, what: str) -> list[Span]:
    items = payload.get("items") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise ItemError(f'{what} must be an object with an "items" list of spans')
    return [normalize_span(raw, ctx, f"{what} span {i}") for i, raw in enumerate(items)]


def normalize_span(raw: Any, ctx: IngestContext, what: str) -> Span:
    raw = mapping(raw)
    attrs = flatten_attributes(raw.get("attributes"))
    span_id = hex_id(raw.get("span_id"), 16, f"{what} span_id")
    is_segment = bool(raw.get("is_segment"))
    name = text(raw.get("name"))
    segment_name = text(attrs.get("sentry.segment.name")) or (name if is_segment else None)
    start = timestamp(raw.get("start_timestamp"), f"{what} start_timestamp")
    end = raw.get("end_timestamp", raw.get("timestamp"))
    user = _user(attrs, ctx)
    return Span(
        project_id=ctx.project_id,
        trace_id=hex_id(raw.get("trace_id"), 32, f"{what} trace_id"),
        span_id=span_id,
        parent_span_id=optional_hex_id(raw.get("parent_span_id"), 16, f"{what} parent_span_id"),
        segment_id=text(attrs.get("sentry.segment.id")) or span_id,
        is_segment=is_segment,
        transaction=segment_name,
        op=text(attrs.get("sentry.op")),
        description=name,
        status=span_status(raw.get("status"), attrs.get("sentry.status.message")),
        start_timestamp=start,
        timestamp=start if end is None else timestamp(end, f"{what} end_timestamp"),
        service=ctx.service,
        tags={k: v for k, v in attrs.items() if isinstance(v, str) and not k.startswith("sentry.")},
        data=attrs,
        environment=text(attrs.get("sentry.environment")) or text(ctx.dsc.get("environment")),
        release=text(attrs.get("sentry.release")) or text(ctx.dsc.get("release")),
        user=user,
        client=enrich.from_attributes(attrs, user.ip_address) if is_segment else NO_CLIENT,
        sample_rate=sample_rate(ctx.dsc.get("sample_rate"), attrs.get("sentry.sample_rate")),
        platform=text(attrs.get("sentry.platform")),
        sdk={"name": attrs["sentry.sdk.name"], "version": attrs.get("sentry.sdk.version")}
        if "sentry.sdk.name" in attrs
        else {},
    )


def _user(attrs: dict[str, Any], ctx: IngestContext) -> User:
    return ctx.user(
        {
            "id": attrs.get("user.id"),
            "email": attrs.get("user.email"),
            "username": attrs.get("user.name") or attrs.get("user.username"),
            "ip_address": attrs.get("user.ip_address"),
        }
    )
