"""OTLP/HTTP request bodies (protobuf or JSON) → the protobuf request messages.

The OTLP/JSON exporters do not write protobuf's canonical JSON: ids are
lowercase hex (protobuf JSON would expect base64), enums are integers, and
64-bit integers arrive as strings (Python) or numbers (JS). Ids are turned into
base64 before the standard parser reads the rest, so one code path (the
protobuf messages) serves both encodings.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from glasspane.errors import ProtocolError

REQUESTS: dict[str, type[Message]] = {
    "traces": ExportTraceServiceRequest,
    "logs": ExportLogsServiceRequest,
    "metrics": ExportMetricsServiceRequest,
}
RESPONSES: dict[str, type[Message]] = {
    "traces": ExportTraceServiceResponse,
    "logs": ExportLogsServiceResponse,
    "metrics": ExportMetricsServiceResponse,
}
_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})
#: Ids sit at most this deep (``resourceMetrics[].scopeMetrics[].metrics[].sum
#: .dataPoints[].exemplars[].traceId`` is 12); deeper values are attribute values.
_ID_DEPTH = 16


def is_json(content_type: str | None) -> bool:
    return "json" in (content_type or "").lower()


def decode(signal: str, body: bytes, content_type: str | None) -> Message:
    """The ``Export*ServiceRequest`` of ``signal``; :class:`ProtocolError` if unreadable."""
    message = REQUESTS[signal]()
    if is_json(content_type):
        try:
            document = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError as exc:
            raise ProtocolError(f"OTLP {signal} body is not valid JSON: {exc}") from None
        try:
            json_format.ParseDict(_ids_to_base64(document), message, ignore_unknown_fields=True)
        except (json_format.ParseError, ValueError, TypeError) as exc:
            raise ProtocolError(f"OTLP {signal} JSON does not fit the OTLP schema: {exc}") from None
        except RecursionError:  # protobuf's message for a misplaced deep value repr()s it
            raise ProtocolError(f"OTLP {signal} JSON is nested too deeply") from None
        return message
    try:
        message.ParseFromString(body)
    except DecodeError as exc:
        raise ProtocolError(
            f"OTLP {signal} body is not a valid protobuf {message.DESCRIPTOR.name}: {exc}; "
            "send Content-Type: application/json for OTLP/JSON"
        ) from None
    return message


def _ids_to_base64(node: Any, depth: int = 0) -> Any:
    """Hex ids (as the OTLP/JSON exporters write them) → base64 for the protobuf parser.

    Below :data:`_ID_DEPTH` the document is left as it is: no id lives there, and the
    recursion stays bounded however deep the JSON (the protobuf parser refuses
    what is nested deeper than its own limit).
    """
    if depth > _ID_DEPTH:
        return node
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in _ID_KEYS and isinstance(value, str) and _is_hex(value):
                value = base64.b64encode(bytes.fromhex(value)).decode()
            out[key] = _ids_to_base64(value, depth + 1)
        return out
    if isinstance(node, list):
        return [_ids_to_base64(item, depth + 1) for item in node]
    return node


def _is_hex(value: str) -> bool:
    return len(value) in (16, 32) and all(c in "0123456789abcdefABCDEF" for c in value)


def encode_response(
    signal: str, content_type: str | None, rejected: int = 0, message: str = ""
) -> tuple[bytes, str]:
    """What the exporters expect back: ``{}`` / an empty message, or a partial success."""
    response = RESPONSES[signal]()
    if rejected:
        field = {
            "traces": "rejected_spans",
            "logs": "rejected_log_records",
            "metrics": "rejected_data_points",
        }[signal]
        setattr(response.partial_success, field, rejected)
        response.partial_success.error_message = message[:1000]
    if is_json(content_type):
        return orjson.dumps(json_format.MessageToDict(response)), "application/json"
    return response.SerializeToString(), "application/x-protobuf"


def any_value(value: AnyValue) -> Any:
    """An OTLP ``AnyValue`` as plain Python."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def attributes(pairs: Any) -> dict[str, Any]:
    """Repeated ``KeyValue`` → dict."""
    out: dict[str, Any] = {}
    for pair in pairs:
        assert isinstance(pair, KeyValue)
        out[pair.key] = any_value(pair.value)
    return out
