"""Hostile strings over HTTP, in-process: every receiver stores them, cut to the limit.

Bodies over the inline limit, compressed bodies that expand past it, the legacy
``/store/`` endpoint and OTLP/JSON all take the worker-thread road
(``ingest/routes.py``); the end-to-end test checks that they delay only
themselves (tests/e2e/test_hostile_input.py).
"""

from __future__ import annotations

import gzip
import time
import zlib
from typing import Any

import brotli
import orjson
import pytest
import zstandard

from envelopes import envelope_bytes, error_event, new_span_id, new_trace_id
from glasspane.ingest.routes import INLINE_PARSE_LIMIT
from inprocess.conftest import App

MIB = 1024 * 1024
CUT = "...[truncated"

COMPRESSORS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": zstandard.ZstdCompressor().compress,
}


def hostile_event(text: str) -> dict[str, Any]:
    event = error_event(message=text, culprit=text, transaction=text)
    event["exception"]["values"][0]["value"] = text
    event["breadcrumbs"] = {"values": [{"message": text, "category": "log"}]}
    return event


def latest(app: App, event: dict[str, Any]) -> dict[str, Any]:
    trace = app.trace(event["contexts"]["trace"]["trace_id"])
    [error] = trace["errors"]
    answer = app.client.get(f"/api/v1/issues/{error['issue_id']}", headers=app.admin())
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.mark.parametrize("encoding", COMPRESSORS)
def test_a_small_compressed_body_that_expands_past_the_inline_limit(
    app: App, encoding: str
) -> None:
    event = hostile_event("a@" * (MIB // 2))  # the e-mail mask's worst case, once 19 s per 100 KB
    body = COMPRESSORS[encoding](envelope_bytes(event))
    assert len(body) < INLINE_PARSE_LIMIT
    started = time.monotonic()
    response = app.client.post(
        app.envelope_url(), content=body, headers={**app.auth(), "Content-Encoding": encoding}
    )
    assert response.status_code == 200, response.text
    assert time.monotonic() - started < 10
    issue = latest(app, event)
    assert issue["value"].startswith("a@a@") and CUT in issue["latest_event"]["message"]


def test_the_legacy_store_endpoint_takes_hostile_strings(app: App) -> None:
    event = hostile_event("4 " * (MIB // 2))  # digits and spaces: the card pattern's input
    response = app.client.post(
        f"/api/{app.default.id}/store/", content=orjson.dumps(event), headers=app.auth()
    )
    assert response.status_code == 200, response.text
    issue = latest(app, event)
    assert issue["culprit"].startswith("app.py in handler")  # from the frame, not the text
    assert len(issue["latest_event"]["message"]) < 16384 + 40


def test_otlp_json_with_hostile_strings(app: App) -> None:
    text = "(" * MIB
    trace_id, span_id = new_trace_id(), new_span_id()
    span = {
        "traceId": trace_id,
        "spanId": span_id,
        "name": text,
        "kind": 2,
        "startTimeUnixNano": str(time.time_ns() - 10**9),
        "endTimeUnixNano": str(time.time_ns()),
        "attributes": [{"key": "http.route", "value": {"stringValue": text}}],
        "events": [
            {
                "name": "exception",
                "timeUnixNano": str(time.time_ns()),
                "attributes": [
                    {"key": "exception.type", "value": {"stringValue": "E"}},
                    {"key": "exception.message", "value": {"stringValue": text}},
                    {"key": "exception.stacktrace", "value": {"stringValue": "  at " + text}},
                ],
            }
        ],
    }
    document = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    response = app.client.post(
        f"/api/{app.default.id}/integration/otlp/v1/traces",
        content=orjson.dumps(document),
        headers={**app.auth(), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    trace = app.trace(trace_id)
    [stored] = trace["spans"]
    assert stored["description"].startswith("((((") and CUT in stored["description"]
    assert trace["errors"][0]["value"].startswith("((((")
