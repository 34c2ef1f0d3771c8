"""OTLP log records → log records (protocol.md §8).

``service.name`` names the service, as for spans; ``deployment.environment``
and ``service.version`` give the environment and release. The record's
attributes are kept, with the resource's descriptive attributes beside them
(the record's own win) and the instrumentation scope as ``otel.scope.name``.
The level comes from the severity number (OpenTelemetry's ranges of four),
else the severity text.
"""

from __future__ import annotations

from typing import Any

import orjson
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord as OtlpLogRecord

from glasspane.domain import Batch, LogRecord
from glasspane.normalize.context import IngestContext
from glasspane.normalize.logs import level_name, severity_level
from glasspane.normalize.otlp_traces import RESOURCE_TAGS
from glasspane.protocol.otlp import any_value, attributes


def resource_details(resource: dict[str, Any], ctx: IngestContext) -> dict[str, Any]:
    """Service, environment, release and the descriptive resource attributes."""
    environment = resource.get("deployment.environment.name") or resource.get(
        "deployment.environment"
    )
    release = resource.get("service.version")
    return {
        "service": str(resource.get("service.name") or ctx.service),
        "environment": None if environment is None else str(environment),
        "release": None if release is None else str(release),
        "tags": {k: v for k, v in resource.items() if k in RESOURCE_TAGS},
    }


def hex_or_none(raw: bytes) -> str | None:
    """An id as hex; ``None`` when absent or all zeros (OTLP's "no id")."""
    return raw.hex() if raw and any(raw) else None


def body_text(record: OtlpLogRecord) -> str:
    value = any_value(record.body)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, default=str).decode()


def normalize_logs(request: ExportLogsServiceRequest, ctx: IngestContext) -> Batch:
    batch = Batch()
    for resource_logs in request.resource_logs:
        details = resource_details(attributes(resource_logs.resource.attributes), ctx)
        for scope_logs in resource_logs.scope_logs:
            scope = {"otel.scope.name": scope_logs.scope.name} if scope_logs.scope.name else {}
            for record in scope_logs.log_records:
                batch.logs.append(_record(record, details, scope, ctx))
    return batch


def _record(
    record: OtlpLogRecord, details: dict[str, Any], scope: dict[str, Any], ctx: IngestContext
) -> LogRecord:
    nanos = record.time_unix_nano or record.observed_time_unix_nano
    severity = int(record.severity_number) or None
    level = severity_level(severity) if severity else level_name(record.severity_text, None)
    return LogRecord(
        project_id=ctx.project_id,
        timestamp=nanos / 1e9 if nanos else ctx.received_at,
        level=level,
        body=body_text(record),
        service=details["service"],
        trace_id=hex_or_none(record.trace_id),
        span_id=hex_or_none(record.span_id),
        severity_number=severity,
        attributes={**details["tags"], **scope, **attributes(record.attributes)},
        environment=details["environment"],
        release=details["release"],
    )
