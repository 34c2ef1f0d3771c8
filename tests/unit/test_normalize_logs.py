"""Sentry ``log`` items and OTLP log records → log records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord as OtlpLogRecord

from glasspane.domain import Batch
from glasspane.errors import ItemError
from glasspane.normalize.context import IngestContext
from glasspane.normalize.envelope import normalize_envelope
from glasspane.normalize.logs import handle_log_item, level_name, severity_level
from glasspane.normalize.otlp_logs import normalize_logs
from glasspane.protocol.envelope import parse_envelope

FIXTURES = Path(__file__).parent.parent / "fixtures" / "envelopes"
NOW = 1_800_000_000.0


def ctx(**dsc: Any) -> IngestContext:
    return IngestContext(3, "checkout", NOW, dsc=dsc)


def fixture_logs(name: str) -> Batch:
    envelope = parse_envelope((FIXTURES / name).read_bytes(), 10_000_000)
    batch, problems = normalize_envelope(envelope, ctx())
    assert problems == [] and batch.outcomes == []
    return batch


def test_python_sdk_logs_keep_span_severity_and_attributes() -> None:
    info, warning, stdlib = fixture_logs("python-logs.envelope").logs
    assert (info.level, info.severity_number, info.body) == ("info", 9, "Case AAA-1 created")
    assert info.trace_id == "48eb67b1e165455ab6c6a9faa9df211c"
    assert info.span_id == "a64d343b2b2649af"
    assert info.attributes["tier"] == "gold"
    assert info.attributes["sentry.message.template"] == "Case {case_id} created"
    assert (info.environment, info.release) == ("test", "r@1")
    assert (info.project_id, info.service, info.timestamp) == (3, "checkout", 1795904660.5716856)
    assert (warning.level, warning.severity_number) == ("warn", 13)
    # stdlib logging outside any span: the trace of the scope, no span.
    assert stdlib.span_id is None and stdlib.trace_id is not None
    assert stdlib.attributes["logger.name"] == "app"


def test_node_sdk_logs_take_the_span_from_the_parent_span_attribute() -> None:
    info, warning = fixture_logs("node-logs.envelope").logs
    assert info.span_id == warning.span_id == "81679ad0e38d7c89"
    assert info.trace_id == "3bd60a05cbec4be987af3eca35ea1fd0"
    assert (info.severity_number, warning.level) == (9, "warn")
    assert (info.environment, info.release) == ("e2e", "n@1")


@pytest.mark.parametrize(
    ("level", "severity", "expected"),
    [
        ("info", None, "info"),
        ("WARNING", None, "warn"),
        ("critical", None, "fatal"),
        (None, 17, "error"),
        ("nonsense", 3, "trace"),
        (None, None, "info"),
    ],
)
def test_level_names(level: Any, severity: int | None, expected: str) -> None:
    assert level_name(level, severity) == expected


@pytest.mark.parametrize(
    ("number", "level"), [(0, "info"), (1, "trace"), (8, "debug"), (9, "info"), (24, "fatal")]
)
def test_severity_ranges(number: int, level: str) -> None:
    assert severity_level(number) == level


def test_bad_entries_are_dropped_and_counted_beside_good_ones() -> None:
    batch = Batch()
    payload = {
        "items": [
            {"timestamp": NOW, "level": "error", "body": "kept", "trace_id": "a" * 32},
            {"timestamp": "yesterday", "body": "bad time"},
            {"timestamp": NOW, "body": "bad trace", "trace_id": "xyz"},
            "not an object",
        ]
    }
    handle_log_item(payload, ctx(environment="prod"), 'Envelope item 1 ("log")', batch)
    [log] = batch.logs
    assert (log.body, log.level, log.severity_number, log.environment) == (
        "kept",
        "error",
        17,
        "prod",
    )
    [outcome] = batch.outcomes
    assert (outcome.category, outcome.reason, outcome.quantity) == ("log_item", "invalid", 3)


def test_a_container_without_items_is_an_item_error() -> None:
    with pytest.raises(ItemError, match=r'must be an object with an "items" list'):
        handle_log_item({"version": 2}, ctx(), 'Envelope item 1 ("log")', Batch())


def _kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def otlp_request(*records: OtlpLogRecord, resource: list[KeyValue] | None = None) -> Any:
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.attributes.extend(
        resource
        if resource is not None
        else [
            _kv("service.name", string_value="registry"),
            _kv("service.version", string_value="2.1.0"),
            _kv("deployment.environment.name", string_value="prod"),
            _kv("service.instance.id", string_value="random"),
        ]
    )
    scope_logs = resource_logs.scope_logs.add()
    scope_logs.scope.name = "app.cases"
    scope_logs.log_records.extend(records)
    return request


def test_otlp_log_records() -> None:
    record = OtlpLogRecord(
        time_unix_nano=1_800_000_001_500_000_000,
        severity_number=13,  # type: ignore[arg-type]
        severity_text="WARN",
        body=AnyValue(string_value="Case created slowly"),
        trace_id=bytes.fromhex("ab" * 16),
        span_id=bytes.fromhex("cd" * 8),
        attributes=[_kv("case.id", string_value="AAA-1"), _kv("code.line.number", int_value=7)],
    )
    [log] = normalize_logs(otlp_request(record), ctx()).logs
    assert (log.timestamp, log.level, log.severity_number) == (1_800_000_001.5, "warn", 13)
    assert (log.trace_id, log.span_id) == ("ab" * 16, "cd" * 8)
    assert (log.service, log.environment, log.release) == ("registry", "prod", "2.1.0")
    assert log.body == "Case created slowly"
    assert log.attributes == {
        "service.name": "registry",
        "service.version": "2.1.0",
        "deployment.environment.name": "prod",
        "otel.scope.name": "app.cases",
        "case.id": "AAA-1",
        "code.line.number": 7,
    }


def test_otlp_log_without_ids_time_or_severity_number() -> None:
    record = OtlpLogRecord(
        observed_time_unix_nano=1_800_000_002_000_000_000,
        severity_text="Error",
        body=AnyValue(int_value=42),
        trace_id=bytes(16),
    )
    [log] = normalize_logs(otlp_request(record, resource=[]), ctx()).logs
    assert (log.timestamp, log.level, log.severity_number) == (1_800_000_002.0, "error", None)
    assert (log.trace_id, log.span_id, log.service, log.body) == (None, None, "checkout", "42")
    [bare] = normalize_logs(otlp_request(OtlpLogRecord(), resource=[]), ctx()).logs
    assert (bare.timestamp, bare.level, bare.body) == (NOW, "info", "")
