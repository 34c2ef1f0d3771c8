"""OTLP spans → spans and error events (docs/semantics.md "OTLP mapping").

A span with no parent, or whose parent is remote, is a segment (a
transaction) whatever its kind. When the exporter does not say whether the
parent is remote (flags without bit 0x100), server and consumer spans are taken
as entry points. ``service.name`` names the service; the op follows the
semantic conventions (``http.server``, ``http.client``, ``db``, ``rpc`` ...),
else the kind. Status ERROR becomes ``internal_error``. Exception events become
error events attached to their span, with frames parsed from the stack text.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as OtlpSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from glasspane.domain import (
    NO_CLIENT,
    Batch,
    ErrorEvent,
    ExceptionInfo,
    Frame,
    Location,
    Span,
    User,
)
from glasspane.normalize import enrich
from glasspane.normalize.context import IngestContext
from glasspane.normalize.fingerprint import fingerprint
from glasspane.protocol.otlp import attributes

KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
HAS_IS_REMOTE, IS_REMOTE = 0x100, 0x200
RESOURCE_TAGS = (
    "service.name",
    "service.version",
    "service.namespace",
    "deployment.environment",
    "deployment.environment.name",
    "host.name",
)


def span_op(kind: int, attrs: dict[str, Any]) -> str:
    side = {2: "server", 3: "client"}.get(kind)
    if "http.request.method" in attrs or "http.method" in attrs:
        return f"http.{side}" if side else "http"
    if "db.system" in attrs or "db.system.name" in attrs:
        return "db"
    if "rpc.system" in attrs:
        return f"rpc.{side}" if side else "rpc"
    if "messaging.system" in attrs:
        return {4: "queue.publish", 5: "queue.process"}.get(kind, "queue")
    return KINDS.get(kind, "internal")


def is_segment(span: OtlpSpan) -> bool:
    if not span.parent_span_id:
        return True
    if span.flags & HAS_IS_REMOTE:
        return bool(span.flags & IS_REMOTE)
    return span.kind in (OtlpSpan.SPAN_KIND_SERVER, OtlpSpan.SPAN_KIND_CONSUMER)


def _tags(resource: dict[str, Any], attrs: dict[str, Any]) -> dict[str, str]:
    merged = {k: v for k, v in resource.items() if k in RESOURCE_TAGS}
    merged.update(attrs)
    return {
        k: v if isinstance(v, str) else str(v)
        for k, v in merged.items()
        if isinstance(v, (str, int, float, bool))
    }


def normalize_traces(request: ExportTraceServiceRequest, ctx: IngestContext) -> Batch:
    batch = Batch()
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        service = str(resource.get("service.name") or ctx.service)
        otlp_spans = [s for scope in resource_spans.scope_spans for s in scope.spans]
        segment_of = local_segments(otlp_spans)
        for span in otlp_spans:
            converted = _span(span, segment_of(span), resource, service, ctx)
            batch.spans.append(converted)
            batch.errors.extend(_exceptions(span, converted, ctx))
    return batch


def local_segments(spans: list[OtlpSpan]) -> Callable[[OtlpSpan], OtlpSpan | None]:
    """For each of ``spans``, its local root within them (``None`` if its chain leaves).

    Linear in the number of spans, however long the parent chains: every parent's
    answer is remembered, so no chain is walked twice (walking each span's chain
    afresh took minutes for one request of a few thousand chained spans). A
    chain that loops has no root.
    """
    by_id = {s.span_id: s for s in spans}
    roots: dict[bytes, OtlpSpan | None] = {}  # parent span id → its local root

    def segment_of(span: OtlpSpan) -> OtlpSpan | None:
        walked: dict[bytes, None] = {}  # parent ids on this walk, in a set's time
        root: OtlpSpan | None = span
        while root is not None and not is_segment(root):
            parent_id = root.parent_span_id
            if parent_id in roots:
                root = roots[parent_id]
                break
            if parent_id in walked:  # a loop
                root = None
                break
            walked[parent_id] = None
            root = by_id.get(parent_id)
        for parent_id in walked:
            roots[parent_id] = root
        return root

    return segment_of


def _span(
    span: OtlpSpan,
    segment: OtlpSpan | None,
    resource: dict[str, Any],
    service: str,
    ctx: IngestContext,
) -> Span:
    attrs = attributes(span.attributes)
    user = ctx.user(
        {
            "id": attrs.get("enduser.id") or attrs.get("user.id"),
            "email": attrs.get("user.email"),
            "username": attrs.get("user.name"),
            "ip_address": attrs.get("client.address"),
        }
    )
    start = span.start_time_unix_nano / 1e9
    end = span.end_time_unix_nano / 1e9 if span.end_time_unix_nano else start
    data = {**attrs, "otel.kind": KINDS.get(span.kind, "unspecified")}
    if span.events:
        data["otel.events"] = [
            {"name": e.name, "timestamp": e.time_unix_nano / 1e9, **attributes(e.attributes)}
            for e in span.events
            if e.name != "exception"
        ]
    own_segment = is_segment(span)
    return Span(
        project_id=ctx.project_id,
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex() or None,
        segment_id=segment.span_id.hex() if segment else "",
        is_segment=own_segment,
        transaction=segment.name if segment else None,
        op=span_op(span.kind, attrs),
        description=span.name,
        status="internal_error" if span.status.code == Status.STATUS_CODE_ERROR else "ok",
        start_timestamp=start,
        timestamp=max(start, end),
        service=service,
        tags=_tags(resource, attrs),
        data=data,
        environment=_text(
            resource.get("deployment.environment.name") or resource.get("deployment.environment")
        ),
        release=_text(resource.get("service.version")),
        user=user,
        client=enrich.from_attributes(attrs, user.ip_address) if own_segment else NO_CLIENT,
        platform=_text(resource.get("telemetry.sdk.language")),
        sdk={
            "name": resource.get("telemetry.sdk.name"),
            "version": resource.get("telemetry.sdk.version"),
        }
        if own_segment
        else {},
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# Both run in linear time on any line (tests/unit/test_linear_time.py): they are
# anchored, and the JavaScript one's lazy function name can end only before " (",
# after which the file part cannot cross a parenthesis, so the tries read
# disjoint stretches of the line.
_PY_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>.+)$')
_JS_FRAME = re.compile(r"^\s*at (?:(?P<func>.+?) \()?(?P<file>[^()]+?):(?P<line>\d+)(?::\d+)?\)?$")


def parse_stack(text: str) -> list[Frame]:
    """Frames (oldest first) from a Python traceback or a JavaScript stack string."""
    frames: list[Frame] = []
    for line in text.splitlines():
        match = _PY_FRAME.match(line)
        if match:
            frames.append(_frame(match))
            continue
        match = _JS_FRAME.match(line)
        if match:
            frames.insert(0, _frame(match))  # JS stacks list the newest frame first
    return frames


def _frame(match: re.Match[str]) -> Frame:
    path = match.group("file")
    in_app = "site-packages" not in path and "node_modules" not in path and not path.startswith("<")
    return Frame(
        filename=path.rsplit("/", 1)[-1],
        abs_path=path,
        function=(match.group("func") or "?").strip(),
        lineno=int(match.group("line")),
        in_app=in_app,
    )


def _exceptions(span: OtlpSpan, converted: Span, ctx: IngestContext) -> list[ErrorEvent]:
    out = []
    for event in span.events:
        if event.name != "exception":
            continue
        attrs = attributes(event.attributes)
        frames = parse_stack(str(attrs.get("exception.stacktrace") or ""))
        info = ExceptionInfo(
            type=_text(attrs.get("exception.type")) or "Error",
            value=_text(attrs.get("exception.message")),
            frames=frames,
        )
        crash = next((f for f in reversed(frames) if f.in_app), frames[-1] if frames else None)
        location = Location(crash.filename, crash.lineno, crash.function) if crash else None
        out.append(
            ErrorEvent(
                project_id=ctx.project_id,
                event_id=uuid.uuid4().hex,
                timestamp=event.time_unix_nano / 1e9 or converted.timestamp,
                received_at=ctx.received_at,
                level="error",
                platform=converted.platform,
                trace_id=converted.trace_id,
                span_id=converted.span_id,
                transaction=converted.transaction,
                message=None,
                exceptions=[info],
                fingerprint=fingerprint([info], None),
                title=f"{info.type}: {info.value}" if info.value else str(info.type),
                culprit=f"{location.file} in {location.function}" if location else None,
                location=location,
                service=converted.service,
                tags=converted.tags,
                user=converted.user if isinstance(converted.user, User) else User(),
                release=converted.release,
                environment=converted.environment,
            )
        )
    return out
