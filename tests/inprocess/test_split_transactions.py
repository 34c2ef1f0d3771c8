"""A transaction whose spans arrive in several requests is still examined whole.

Span-streaming SDKs (@sentry/node 11, @sentry/browser 11) and OpenTelemetry's batch
exporters send a transaction's children before its segment, in other requests and
so in other write groups. The N+1 below is visible only with every child.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from envelopes import new_span_id, new_trace_id
from inprocess.conftest import App

STATEMENT = "SELECT * FROM pages WHERE document_id = ?"
NOW = time.time() - 60


def _span(trace_id: str, segment: str, span_id: str, parent: str | None, **fields: Any) -> dict:
    start = NOW + fields.pop("start", 0.0)
    return {
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": parent,
        "status": "ok",
        "is_segment": span_id == segment,
        "start_timestamp": start,
        "end_timestamp": start + fields.pop("ms", 20) / 1000,
        "name": fields.pop("name"),
        "attributes": {
            "sentry.segment.id": {"value": segment, "type": "string"},
            "sentry.segment.name": {"value": "GET /cases/{id}", "type": "string"},
            "sentry.op": {"value": fields.pop("op"), "type": "string"},
        },
    }


def _post(app: App, trace_id: str, spans: list[dict]) -> None:
    body = b"\n".join(
        [
            orjson.dumps({"trace": {"trace_id": trace_id}}),
            orjson.dumps(
                {
                    "type": "span",
                    "item_count": len(spans),
                    "content_type": "application/vnd.sentry.items.span.v2+json",
                }
            ),
            orjson.dumps({"version": 2, "items": spans}),
        ]
    )
    url = f"{app.envelope_url()}?sentry_key={app.default.public_key}"
    answer = app.client.post(url, content=body)
    assert answer.status_code == 200, answer.text


def _performance_issues(app: App) -> list[dict[str, Any]]:
    answer = app.client.get(
        "/api/v1/issues",
        params={"query": "issue.category:performance", "period": "7d"},
        headers=app.admin(),
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["issues"])


def test_children_sent_before_their_segment_are_examined_with_it(app: App) -> None:
    trace_id, segment = new_trace_id(), new_span_id()
    source = new_span_id()
    first = [
        _span(trace_id, segment, source, segment, name="SELECT id FROM documents", op="db", ms=5)
    ]
    repeats = [new_span_id() for _ in range(6)]
    first += [
        _span(
            trace_id,
            segment,
            span_id,
            segment,
            name=f"SELECT * FROM pages WHERE document_id = {i}",
            op="db",
            start=0.01 + i * 0.025,
        )
        for i, span_id in enumerate(repeats)
    ]
    # Two requests of children, then the segment alone: three write groups.
    _post(app, trace_id, first[:3])
    _post(app, trace_id, first[3:])
    assert _performance_issues(app) == []
    _post(
        app,
        trace_id,
        [_span(trace_id, segment, segment, None, name="GET /cases/{id}", op="http.server", ms=400)],
    )
    [issue] = _performance_issues(app)
    assert (issue["type"], issue["value"], issue["culprit"]) == (
        "n_plus_one_db_queries",
        STATEMENT,
        "GET /cases/{id}",
    )
    event = app.client.get(f"/api/v1/issues/{issue['id']}", headers=app.admin()).json()
    evidence = event["latest_event"]["evidence"]
    assert sorted(evidence["span_ids"]) == sorted(repeats)
    assert evidence["repeated"] == 6
