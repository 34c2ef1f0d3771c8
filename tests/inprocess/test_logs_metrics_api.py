"""Logs and metrics in through envelopes and OTLP, out through the API."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.metrics.v1 import metrics_pb2 as pb
from sentry_sdk.envelope import Envelope, Item, PayloadRef

from envelopes import envelope_bytes, new_span_id, new_trace_id, transaction
from inprocess.conftest import App

LOG_TYPE = "application/vnd.sentry.items.log+json"
METRIC_TYPE = "application/vnd.sentry.items.trace-metric+json"


def attrs(**values: Any) -> dict[str, Any]:
    return {k: {"value": v, "type": "string"} for k, v in values.items()}


def container(item_type: str, content_type: str, entries: list[dict[str, Any]]) -> bytes:
    """A ``log`` or ``trace_metric`` envelope framed as the Python SDK frames it."""
    envelope = Envelope(headers={})
    envelope.add_item(
        Item(
            payload=PayloadRef(json={"version": 2, "items": entries}),
            type=item_type,
            content_type=content_type,
            headers={"item_count": len(entries)},
        )
    )
    return envelope.serialize()


def post(app: App, body: bytes) -> Any:
    answer = app.client.post(app.envelope_url(), content=body, headers=app.auth())
    assert answer.status_code == 200, answer.text
    return answer.json()


def get(app: App, path: str, status: int = 200, **params: Any) -> Any:
    answer = app.client.get(path, params=params, headers=app.admin())
    assert answer.status_code == status, answer.text
    return answer.json()


def test_logs_appear_under_their_spans_in_the_trace(app: App) -> None:
    payload = transaction(name="createCase")
    trace_id = payload["contexts"]["trace"]["trace_id"]
    span_id = payload["spans"][0]["span_id"]
    now = time.time()
    post(app, envelope_bytes(payload))
    entry = {"trace_id": trace_id, "attributes": attrs(tier="gold")}
    post(
        app,
        container(
            "log",
            LOG_TYPE,
            [
                {
                    **entry,
                    "timestamp": now - 0.2,
                    "level": "info",
                    "body": "Case created",
                    "span_id": span_id,
                },
                {
                    **entry,
                    "timestamp": now - 0.1,
                    "level": "warn",
                    "body": "slow insert",
                    "span_id": span_id,
                },
                {**entry, "timestamp": now, "level": "error", "body": "no span"},
            ],
        ),
    )
    trace = app.trace(trace_id)
    assert [(log["body"], log["span_id"]) for log in trace["logs"]] == [
        ("Case created", span_id),
        ("slow insert", span_id),
        ("no span", None),
    ]
    assert span_id in {span["span_id"] for span in trace["spans"]}
    first = trace["logs"][0]
    assert (first["level"], first["severity_number"], first["project"]) == ("info", 9, "default")
    assert first["attributes"]["tier"] == "gold"


def test_a_trace_with_only_logs_is_found(app: App) -> None:
    trace_id = new_trace_id()
    entry = {"timestamp": time.time(), "level": "info", "body": "alone", "trace_id": trace_id}
    post(app, container("log", LOG_TYPE, [entry]))
    trace = app.trace(trace_id)
    assert trace["spans"] == [] and [log["body"] for log in trace["logs"]] == ["alone"]


def test_logs_api_is_newest_first_with_query_and_limit(app: App) -> None:
    now = time.time()
    post(
        app,
        container(
            "log",
            LOG_TYPE,
            [
                {"timestamp": now - 3 + i, "level": level, "body": body, "attributes": a}
                for i, (level, body, a) in enumerate(
                    [
                        ("info", "first", attrs(tier="free")),
                        ("warn", "second", attrs(tier="gold")),
                        ("info", "third", attrs(tier="gold")),
                    ]
                )
            ],
        ),
    )
    assert [log["body"] for log in get(app, "/api/v1/logs")["logs"]] == [
        "third",
        "second",
        "first",
    ]
    assert [log["body"] for log in get(app, "/api/v1/logs", limit=2)["logs"]] == [
        "third",
        "second",
    ]
    gold = get(app, "/api/v1/logs", query="tier:gold !level:warn")["logs"]
    assert [log["body"] for log in gold] == ["third"]
    assert get(app, "/api/v1/logs", query="level:warn", period="15m")["logs"][0]["body"] == "second"
    assert "limit must be between 1 and 1000" in get(app, "/api/v1/logs", 400, limit=1001)["detail"]
    assert "unknown key" in get(app, "/api/v1/logs", 400, query="tire:gold")["detail"]
    assert app.client.get("/api/v1/logs").status_code == 401


def metric(name: str, type_: str, value: float, **extra: Any) -> dict[str, Any]:
    return {
        "timestamp": time.time(),
        "trace_id": new_trace_id(),
        "span_id": new_span_id(),
        "name": name,
        "type": type_,
        "value": value,
        **extra,
    }


def test_metrics_api_series_totals_and_groups(app: App) -> None:
    durations = [(120.0, "gold"), (80.0, "gold"), (200.0, "free"), (40.0, "free")]
    post(
        app,
        container(
            "trace_metric",
            METRIC_TYPE,
            [
                metric("cases.created", "counter", 1.0, attributes=attrs(tier=t))
                for _, t in durations
            ]
            + [
                metric(
                    "case.creation.duration",
                    "distribution",
                    ms,
                    unit="millisecond",
                    attributes=attrs(tier=t),
                )
                for ms, t in durations
            ],
        ),
    )
    answer = get(
        app, "/api/v1/metrics", name="case.creation.duration", period="1h", group_by="tier"
    )
    assert (answer["name"], answer["type"], answer["unit"]) == (
        "case.creation.duration",
        "distribution",
        "millisecond",
    )
    assert answer["interval"] == 60.0 and len(answer["series"]) == 60
    assert answer["totals"] == {
        "count": 4,
        "sum": 440.0,
        "avg": 110.0,
        "min": 40.0,
        "max": 200.0,
        "p50": 100.0,
        "p95": pytest.approx(188.0),  # 120 + 0.85 * (200 - 120)
    }
    [point] = [p for p in answer["series"] if p["count"]]
    assert point == {"timestamp": point["timestamp"], **answer["totals"]}
    empty = answer["series"][0]
    assert (empty["count"], empty["sum"], empty["avg"], empty["p50"]) == (0, 0.0, None, None)
    groups = {g["value"]: g["totals"] for g in answer["groups"]}
    assert groups["gold"]["sum"] == 200.0 and groups["gold"]["p50"] == 100.0
    assert groups["free"]["max"] == 200.0 and groups["free"]["count"] == 2

    counter = get(app, "/api/v1/metrics", name="cases.created", query="tier:gold")
    assert (counter["type"], counter["totals"]["sum"], counter["groups"]) == ("counter", 2.0, [])
    names = get(app, "/api/v1/metrics/names")["metrics"]
    assert [(m["name"], m["points"]) for m in names] == [
        ("case.creation.duration", 4),
        ("cases.created", 4),
    ]


def test_metrics_api_errors(app: App) -> None:
    assert "name" in get(app, "/api/v1/metrics", 400)["detail"]
    assert "No metric named 'nope'" in get(app, "/api/v1/metrics", 404, name="nope")["detail"]
    post(app, container("trace_metric", METRIC_TYPE, [metric("jobs", "gauge", 3.0)]))
    too_fine = get(app, "/api/v1/metrics", 400, name="jobs", period="24h", interval=1)
    assert "at most 2000 buckets" in too_fine["detail"]


def otlp_json_logs(trace_id: str, span_id: str) -> dict[str, Any]:
    """What the Python OTLP/JSON exporter sends: hex ids, 64-bit integers as strings."""
    now = str(time.time_ns())
    return {
        "resourceLogs": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "otel-api"}}]
                },
                "scopeLogs": [
                    {
                        "scope": {"name": "app"},
                        "logRecords": [
                            {
                                "timeUnixNano": now,
                                "observedTimeUnixNano": now,
                                "severityNumber": 13,
                                "severityText": "WARN",
                                "body": {"stringValue": "slow"},
                                "attributes": [
                                    {"key": "code.line.number", "value": {"intValue": "42"}}
                                ],
                                "traceId": trace_id,
                                "spanId": span_id,
                            }
                        ],
                    }
                ],
            }
        ]
    }


@pytest.mark.parametrize("path", ["/v1/logs", "/api/{id}/integration/otlp/v1/logs"])
def test_otlp_json_logs(app: App, path: str) -> None:
    trace_id, span_id = new_trace_id(), new_span_id()
    answer = app.client.post(
        path.format(id=app.default.id),
        content=orjson.dumps(otlp_json_logs(trace_id, span_id)),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {app.default.public_key}",
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {}
    [log] = app.trace(trace_id)["logs"]
    assert (log["body"], log["level"], log["span_id"], log["service"]) == (
        "slow",
        "warn",
        span_id,
        "otel-api",
    )
    assert log["attributes"]["code.line.number"] == 42


def test_otlp_protobuf_metrics_with_an_unsupported_summary(app: App) -> None:
    request = ExportMetricsServiceRequest()
    scope = request.resource_metrics.add().scope_metrics.add()
    now = time.time_ns()
    scope.metrics.add(
        name="queue.depth",
        gauge=pb.Gauge(data_points=[pb.NumberDataPoint(time_unix_nano=now, as_int=7)]),
    )
    scope.metrics.add(name="latency", summary=pb.Summary(data_points=[pb.SummaryDataPoint()]))
    answer = app.client.post(
        f"/api/{app.default.id}/integration/otlp/v1/metrics",
        content=request.SerializeToString(),
        headers={
            "Content-Type": "application/x-protobuf",
            "Authorization": f"Bearer {app.default.public_key}",
        },
    )
    assert answer.status_code == 200, answer.text
    response = ExportMetricsServiceResponse.FromString(answer.content)
    assert response.partial_success.rejected_data_points == 1
    assert "otlp_summary (unsupported)" in response.partial_success.error_message
    depth = get(app, "/api/v1/metrics", name="queue.depth")
    assert (depth["type"], depth["totals"]["max"], depth["totals"]["count"]) == ("gauge", 7.0, 1)
    assert ("otlp_summary", "unsupported") in {(o["category"], o["reason"]) for o in app.outcomes()}


def test_statsd_items_are_stored_as_metrics(app: App) -> None:
    now = int(time.time())
    lines = [
        f"checkout.duration@millisecond:40:120|d|#tier:gold|T{now}",
        f"checkout.duration@millisecond:200|d|#tier:free|T{now}",
        "checkout.duration:oops|d",  # malformed: dropped, counted
        f"carts:3|c|#tier:gold|T{now}",
    ]
    envelope = Envelope(headers={})
    envelope.add_item(Item(payload=PayloadRef(bytes="\n".join(lines).encode()), type="statsd"))
    post(app, envelope.serialize())
    answer = get(app, "/api/v1/metrics", name="checkout.duration", period="1h", group_by="tier")
    assert (answer["type"], answer["unit"]) == ("distribution", "millisecond")
    totals = answer["totals"]
    assert (totals["count"], totals["sum"], totals["min"], totals["max"]) == (3, 360.0, 40.0, 200.0)
    assert {g["value"]: g["totals"]["count"] for g in answer["groups"]} == {"gold": 2, "free": 1}
    carts = get(app, "/api/v1/metrics", name="carts", period="1h")
    assert (carts["type"], carts["totals"]["sum"]) == ("counter", 3.0)
    assert ("statsd", "invalid") in {(o["category"], o["reason"]) for o in app.outcomes()}
