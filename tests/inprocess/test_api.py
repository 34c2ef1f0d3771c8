"""The JSON API in-process: admin token, projects, traces, errors."""

from __future__ import annotations

import re

import orjson
from fastapi.testclient import TestClient

from envelopes import envelope_bytes, error_event, new_span_id, transaction
from inprocess.conftest import App


def test_admin_token_is_required(app: App) -> None:
    missing = app.client.get("/api/v1/projects")
    wrong = app.client.get("/api/v1/projects", headers={"Authorization": "Bearer nope"})
    assert missing.status_code == 401 and "Missing admin token" in missing.json()["detail"]
    assert wrong.status_code == 401 and "Wrong admin token" in wrong.json()["detail"]
    assert app.client.get("/healthz").status_code == 200


def test_projects_create_list_and_conflict(app: App) -> None:
    created = app.client.post("/api/v1/projects", json={"name": "auth-worker"}, headers=app.admin())
    assert created.status_code == 201
    project = created.json()
    assert project["name"] == "auth-worker"
    assert project["dsn"] == f"http://{project['public_key']}@127.0.0.1:8000/{project['id']}"
    listed = app.client.get("/api/v1/projects", headers=app.admin()).json()["projects"]
    assert [p["name"] for p in listed] == ["default", "auth-worker"]
    again = app.client.post("/api/v1/projects", json={"name": "auth-worker"}, headers=app.admin())
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    bad = app.client.post("/api/v1/projects", json={}, headers=app.admin())
    assert bad.status_code == 400 and "name" in bad.json()["detail"]


def test_unknown_trace_is_404_and_bad_id_400(app: App) -> None:
    missing = app.client.get("/api/v1/traces/" + "a" * 32, headers=app.admin())
    assert missing.status_code == 404 and "No trace" in missing.json()["detail"]
    bad = app.client.get("/api/v1/traces/xyz", headers=app.admin())
    assert bad.status_code == 400 and "32 hex digits" in bad.json()["detail"]


def test_orphan_spans_are_flagged_and_status_follows_errors(app: App) -> None:
    payload = transaction()
    trace_id = payload["contexts"]["trace"]["trace_id"]
    payload["contexts"]["trace"]["parent_span_id"] = new_span_id()  # caller never reported
    error = error_event(trace_id, payload["spans"][0]["span_id"])
    app.client.post(app.envelope_url(), content=envelope_bytes(payload), headers=app.auth())
    trace = app.trace(trace_id)
    assert trace["status"] == "ok"
    segment = next(s for s in trace["spans"] if s["is_transaction"])
    assert segment["orphan"] is True
    assert not any(s["orphan"] for s in trace["spans"] if not s["is_transaction"])

    app.client.post(app.envelope_url(), content=envelope_bytes(error), headers=app.auth())
    trace = app.trace(trace_id)
    assert trace["status"] == "error"
    assert trace["errors"][0]["span_id"] == payload["spans"][0]["span_id"]


def test_same_bug_groups_into_one_issue(app: App) -> None:
    first, second = error_event(), error_event()
    second["exception"]["values"][0]["value"] = "bad input 43"
    second["exception"]["values"][0]["stacktrace"]["frames"][0]["lineno"] = 99
    other = error_event()
    other["exception"]["values"][0]["type"] = "KeyError"
    ids = []
    for event in (first, second, other):
        app.client.post(app.envelope_url(), content=envelope_bytes(event), headers=app.auth())
        trace = app.trace(event["contexts"]["trace"]["trace_id"])
        ids.append(trace["errors"][0]["issue_id"])
    assert ids[0] == ids[1] != ids[2]


def test_openapi_schema_lists_the_api(app: App) -> None:
    schema = orjson.loads(app.client.get("/openapi.json").content)
    assert "/api/v1/traces/{trace_id}" in schema["paths"]
    assert "/api/v1/projects" in schema["paths"]


def test_trace_marks_its_critical_path(app: App) -> None:
    payload = transaction()
    trace_id = payload["contexts"]["trace"]["trace_id"]
    app.client.post(app.envelope_url(), content=envelope_bytes(payload), headers=app.auth())
    spans = app.trace(trace_id)["spans"]
    segment = next(s for s in spans if s["is_transaction"])
    children = [s for s in spans if s.get("parent_span_id") == segment["span_id"]]
    assert segment["critical"] is True
    if children:
        last = max(children, key=lambda s: s["timestamp"])
        assert [s["span_id"] for s in children if s["critical"]] == [last["span_id"]]


def test_trace_page_draws_the_critical_path_on_the_bars(app: App) -> None:
    payload = transaction()
    root = payload["contexts"]["trace"]["span_id"]
    start = payload["start_timestamp"]
    child = dict(payload["spans"][0])
    early = {**child, "span_id": "e" * 16, "description": "early", "timestamp": start + 0.1}
    late = {**child, "span_id": "f" * 16, "description": "late", "start_timestamp": start + 0.1}
    late["timestamp"] = payload["timestamp"] - 0.05  # ends last: the root waited on it
    payload["spans"] = [early, late]
    trace_id = payload["contexts"]["trace"]["trace_id"]
    app.client.post(app.envelope_url(), content=envelope_bytes(payload), headers=app.auth())
    app.trace(trace_id)
    browser = TestClient(app.client.app)  # its own cookie jar: a logged-in browser
    browser.post("/login", data={"name": "", "password": app.token})
    page = browser.get(f"/traces/{trace_id}")
    assert page.status_code == 200, page.text
    rows = re.findall(r'<div class="wf-row ([^"]*)" data-depth="\d+" data-span="(\w+)"', page.text)
    assert len(rows) == 3
    critical = {span for classes, span in rows if "critical" in classes.split()}
    assert critical == {root, "f" * 16}
    bars = re.findall(r'data-span="(\w+)".*?<svg class="wf-bar"[^>]*>(.*?)</svg>', page.text)
    marked = {span for span, svg in bars if 'class="cp"' in svg}
    assert marked == {root, "f" * 16}
    assert "Critical path: the spans that determined the trace" in page.text
