"""Per-project performance detector thresholds in-process: ``PATCH /api/v1/projects``
validates and stores them, the detectors apply them to the next transactions, and a
browser page load shaped as @sentry/browser sends it finds the asset issues."""

from __future__ import annotations

import time
from typing import Any

import pytest

from envelopes import envelope_bytes, error_event, new_span_id, new_trace_id
from inprocess.conftest import App

KB = 1024


def patch(app: App, body: Any, project_id: int | None = None) -> Any:
    return app.client.patch(
        f"/api/v1/projects/{project_id or app.default.id}", json=body, headers=app.admin()
    )


def send(app: App, payload: dict[str, Any]) -> None:
    answer = app.client.post(
        app.envelope_url(), content=envelope_bytes(payload), headers=app.auth()
    )
    assert answer.status_code == 200, answer.text


def performance_issues(app: App) -> dict[str, dict[str, Any]]:
    answer = app.client.get(
        "/api/v1/issues", params={"query": "issue.category:performance"}, headers=app.admin()
    )
    assert answer.status_code == 200, answer.text
    return {issue["type"]: issue for issue in answer.json()["issues"]}


def _span(
    root: str, trace: str, start: float, ms: float, op: str, text: str, **data: Any
) -> dict[str, Any]:
    span = {
        "trace_id": trace,
        "span_id": new_span_id(),
        "parent_span_id": root,
        "op": op,
        "description": text,
        "start_timestamp": start,
        "timestamp": start + ms / 1000,
    }
    return {**span, "data": data} if data else span


def _request(name: str, repeats: int, slow_ms: float = 0) -> dict[str, Any]:
    """A server transaction loading a case's documents, then each document's pages
    with its own query (``repeats`` of 20 ms), then a report query of ``slow_ms``."""
    trace, root, start = new_trace_id(), new_span_id(), time.time() - 2
    spans = [_span(root, trace, start, 5, "db", "SELECT id FROM documents WHERE case_id = 1")]
    spans += [
        _span(
            root,
            trace,
            start + 0.01 + i * 0.025,
            20,
            "db",
            f"SELECT * FROM pages WHERE document_id = {i}",
        )
        for i in range(repeats)
    ]
    if slow_ms:
        spans.append(
            _span(root, trace, start + 0.5, slow_ms, "db", "SELECT sum(x) FROM r WHERE y > 3")
        )
    return {
        "type": "transaction",
        "transaction": name,
        "platform": "python",
        "start_timestamp": start,
        "timestamp": start + 1.5,
        "contexts": {"trace": {"trace_id": trace, "span_id": root, "op": "http.server"}},
        "spans": spans,
    }


def test_a_project_with_min_repeats_3_finds_an_n_plus_one_of_3(app: App) -> None:
    send(app, _request("GET /cases/{id}", repeats=3))
    assert "n_plus_one_db_queries" not in performance_issues(app)
    answer = patch(app, {"performance_thresholds": {"n_plus_one_db_queries": {"min_repeats": 3}}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["performance_thresholds"] == {"n_plus_one_db_queries": {"min_repeats": 3}}
    send(app, _request("GET /cases/{id}", repeats=3))
    n1 = performance_issues(app)["n_plus_one_db_queries"]
    assert n1["value"] == "SELECT * FROM pages WHERE document_id = ?"
    assert n1["count"] == 1
    listed = app.client.get("/api/v1/projects", headers=app.admin()).json()["projects"]
    [mine] = [p for p in listed if p["id"] == app.default.id]
    assert mine["performance_thresholds"] == {"n_plus_one_db_queries": {"min_repeats": 3}}


def test_a_detector_switched_off_finds_nothing_and_on_again_finds(app: App) -> None:
    off = {"slow_db_query": {"enabled": False}}
    assert patch(app, {"performance_thresholds": off}).status_code == 200
    send(app, _request("GET /reports", repeats=0, slow_ms=800))
    assert "slow_db_query" not in performance_issues(app)
    # The other detectors keep their own settings; {} is the defaults again.
    answer = patch(
        app, {"performance_thresholds": {"slow_db_query": {}}, "apdex_threshold_ms": 450}
    )
    assert answer.json()["performance_thresholds"] == {}
    assert answer.json()["apdex_threshold_ms"] == 450
    send(app, _request("GET /reports", repeats=0, slow_ms=800))
    assert performance_issues(app)["slow_db_query"]["value"] == "SELECT sum(x) FROM r WHERE y > ?"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"performance_thresholds": {"n_plus_two": {}}}, "unknown detector 'n_plus_two'"),
        (
            {"performance_thresholds": {"slow_db_query": {"min_ms": 1}}},
            "performance_thresholds.slow_db_query.min_ms: unknown threshold",
        ),
        (
            {"performance_thresholds": {"n_plus_one_db_queries": {"min_repeats": -2}}},
            "min_repeats must be a whole number from 1 to 100000",
        ),
        ({"performance_thresholds": [1]}, "must be an object of detectors"),
        ({}, "Nothing to change"),
    ],
)
def test_bad_thresholds_are_a_clear_400(app: App, body: Any, message: str) -> None:
    answer = patch(app, body)
    assert answer.status_code == 400, answer.text
    assert message in answer.text
    assert patch(app, {"performance_thresholds": {}}, project_id=999).status_code == 404


def test_the_defaults_are_listed(app: App) -> None:
    answer = app.client.get("/api/v1/performance-thresholds", headers=app.admin())
    assert answer.json()["defaults"]["n_plus_one_db_queries"] == {
        "min_repeats": 5,
        "min_total_ms": 50.0,
    }


def _page_load() -> dict[str, Any]:
    """A page load as @sentry/browser sends it: FCP 2.4 s, a 700 KB bundle sent
    uncompressed and blocking the first paint, a compressed stylesheet, and a fetch
    of a 400 KB report."""
    trace, root, start = new_trace_id(), new_span_id(), time.time() - 5
    asset = "http.response.body.decoded_size"  # the names of @sentry/browser 11
    spans = [
        _span(root, trace, start + 0.05, 1400, "resource.script", "/static/app.js", **{
            "http.response.body.size": 700 * KB, asset: 700 * KB,
            "http.response.size": 700 * KB + 300,
            "resource.render_blocking_status": "blocking",
        }),
        _span(root, trace, start + 0.05, 40, "resource.link", "/static/site.css", **{
            "http.response.body.size": 3000, asset: 12000,
            "resource.render_blocking_status": "blocking",
        }),
        _span(root, trace, start + 2.6, 220, "http.client", "GET /api/cases/17/report", **{
            "http.response.body.size": 400 * KB, "http.method": "GET", "type": "fetch",
        }),
    ]  # fmt: skip
    return {
        "type": "transaction",
        "transaction": "/cases/:id",
        "platform": "javascript",
        "start_timestamp": start,
        "timestamp": start + 3,
        "contexts": {"trace": {"trace_id": trace, "span_id": root, "op": "pageload"}},
        "measurements": {"fcp": {"value": 2400, "unit": "millisecond"}},
        "spans": spans,
    }


def test_a_browser_page_load_finds_its_heavy_assets(app: App) -> None:
    send(app, _page_load())
    found = performance_issues(app)
    assert set(found) == {"uncompressed_asset", "render_blocking_asset", "large_http_payload"}
    assert found["uncompressed_asset"]["title"] == "Uncompressed Asset"
    assert found["uncompressed_asset"]["value"] == "/static/app.js"
    assert found["render_blocking_asset"]["culprit"] == "/cases/:id"
    payload = found["large_http_payload"]
    assert payload["value"] == "GET /api/cases/*/report"
    detail = app.client.get(f"/api/v1/issues/{payload['id']}", headers=app.admin()).json()
    assert detail["latest_event"]["evidence"]["size_bytes"] == 400 * KB
    # Raised thresholds: the same page finds nothing new.
    higher = {
        "uncompressed_asset": {"min_size_bytes": 1024 * KB},
        "large_http_payload": {"enabled": False},
    }
    assert patch(app, {"performance_thresholds": higher}).status_code == 200
    send(app, _page_load())
    counts = {kind: issue["count"] for kind, issue in performance_issues(app).items()}
    assert counts == {"uncompressed_asset": 1, "render_blocking_asset": 2, "large_http_payload": 1}


RULES = """\
alerts:
  - name: "New N+1 queries"
    conditions:
      - query: issue.category:performance
      - issue_events: > 0
      - window: 10 minutes
"""


def test_an_alert_rule_counts_performance_issues_only(tmp_path: Any) -> None:
    """``issue_events`` with ``issue.category:performance``: an error event leaves the
    rule quiet, an N+1 transaction makes it fire."""
    rules = tmp_path / "alerts.yaml"
    rules.write_text(RULES)
    app = App(tmp_path / "data", alerts=str(rules))
    try:
        with app.client:
            engine = app.instance.alerts
            error = error_event(new_trace_id())
            send(app, error)
            engine.evaluate()
            [rule] = app.client.get("/api/v1/alerts", headers=app.admin()).json()["rules"]
            assert (rule["state"], rule["value"]) == ("ok", 0)
            send(app, _request("GET /cases/{id}", repeats=6))
            engine.evaluate()
            [rule] = app.client.get("/api/v1/alerts", headers=app.admin()).json()["rules"]
            assert (rule["state"], rule["value"]) == ("firing", 1)
    finally:
        app.instance.close()
